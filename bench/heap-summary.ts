// Summarises a V8 .heapsnapshot (node --heapsnapshot-signal=SIGUSR2, then kill -USR2 PID):
// the object kinds holding the most memory by self size, with counts, so a memory
// figure (W5: bytes per idle connection) can be traced to what holds it.
//   node build/bench/heap-summary.js FILE.heapsnapshot [--top N] [--per N]
// --per N: also print bytes per N (e.g. per idle connection) for each row.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '30' }, per: { type: 'string' } },
  });
  if (positionals.length !== 1) {
    console.log('Usage: node build/bench/heap-summary.js FILE.heapsnapshot [--top N] [--per N]');
    process.exit(2);
  }
  const snap = JSON.parse(readFileSync(positionals[0], 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const rows = new Map<string, { count: number; bytes: number }>();
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]];
    const size = snap.nodes[i + sizeAt];
    total += size;
    // Objects are grouped by constructor; strings, code, arrays etc. by their type alone.
    const name = type === 'object' || type === 'native' || type === 'closure' ? snap.strings[snap.nodes[i + nameAt]] : '';
    const key = `${type}${name ? ' ' + name.slice(0, 80) : ''}`;
    const row = rows.get(key) ?? { count: 0, bytes: 0 };
    row.count += 1;
    row.bytes += size;
    rows.set(key, row);
  }
  const per = values.per === undefined ? 0 : Number(values.per);
  const mib = (b: number) => (b / 1048576).toFixed(1).padStart(8);
  console.log(`heap: ${snap.nodes.length / width} nodes, ${mib(total).trim()} MiB self size in all` +
    (per ? ` = ${(total / per / 1024).toFixed(1)} KiB per ${per}` : ''));
  for (const [key, row] of [...rows].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, Number(values.top))) {
    const share = `${((100 * row.bytes) / total).toFixed(1).padStart(5)} %`;
    const perUnit = per ? `  ${(row.bytes / per).toFixed(0).padStart(7)} B and ${(row.count / per).toFixed(1).padStart(5)} objects per unit` : '';
    console.log(`${mib(row.bytes)} MiB ${share} ${String(row.count).padStart(9)} x  ${key}${perUnit}`);
  }
}

main();
