// Summarises a V8 .cpuprofile (node --cpu-prof): the functions with the most self
// time, and the project files with the most inclusive time, so a benchmark report
// can name where the server spends its CPU.
//   node build/bench/profile-summary.js FILE.cpuprofile [--top N] [--filter TEXT] [--callers NAME] [--from S] [--to S]
// --from/--to: only samples taken S seconds after the profile's start (e.g. to leave out shutdown).
// --callers NAME [--depth N]: the call paths (up to N frames, default 6) that lead to functions named NAME, by self time.
// Compiled project code is mapped back to its TypeScript source (src/...ts:LINE) through the
// .js.map files beside it; for project functions the hottest source line is shown as well.
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';

interface CallFrame { functionName: string; url: string; lineNumber: number; columnNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[]; positionTicks?: Array<{ line: number; ticks: number }> }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

const sourceMaps = new Map<string, SourceMap | null>();

function sourceMapFor(file: string): SourceMap | null {
  if (!sourceMaps.has(file)) {
    const mapFile = `${file}.map`;
    sourceMaps.set(file, existsSync(mapFile) ? new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8'))) : null);
  }
  return sourceMaps.get(file)!;
}

/** A compiled position (0-based line and column) as "src/...ts:LINE" (1-based), or null without a source map. */
function sourcePlace(file: string, line: number, column: number): string | null {
  const map = sourceMapFor(file);
  if (!map) return null;
  let entry = map.findEntry(line, column) as { generatedLine?: number; originalSource?: string; originalLine?: number };
  // A position before the line's first mapping finds the previous line's: take the line's last mapping instead.
  if (entry.generatedLine !== line) entry = map.findEntry(line, 1e6) as typeof entry;
  if (entry.generatedLine !== line || !entry.originalSource || entry.originalLine === undefined) return null;
  const source = path.resolve(path.dirname(file), entry.originalSource);
  return `${source.replace(/^.*\/(src|bench)\//, '$1/')}:${entry.originalLine + 1}`;
}

function place(frame: CallFrame): string {
  const file = frame.url.replace(/^file:\/\//, '');
  if (/\/build\/(src|bench)\/.*\.js$/.test(file)) {
    const mapped = sourcePlace(file, frame.lineNumber, frame.columnNumber);
    if (mapped) return mapped;
  }
  const url = file.replace(/^.*\/(build|node_modules)\//, '$1/');
  return url ? `${url}:${frame.lineNumber + 1}` : '(native)';
}

/** The source line with the most ticks among a function's nodes, as "src/...ts:LINE (N % of its ticks)". */
function hottestLine(nodes: ProfileNode[]): string | null {
  const ticks = new Map<number, number>();
  let total = 0;
  for (const n of nodes) {
    for (const t of n.positionTicks ?? []) {
      ticks.set(t.line, (ticks.get(t.line) ?? 0) + t.ticks);
      total += t.ticks;
    }
  }
  if (total === 0) return null;
  const [line, count] = [...ticks].sort((a, b) => b[1] - a[1])[0];
  const file = nodes[0].callFrame.url.replace(/^file:\/\//, '');
  const where = sourcePlace(file, line - 1, 0) ?? `line ${line}`;
  return `${where} (${((100 * count) / total).toFixed(0)} % of its ticks)`;
}

function label(frame: CallFrame): string {
  return `${frame.functionName || '(anonymous)'} ${place(frame)}`;
}

function printCallers(
  profile: Profile, byId: Map<number, ProfileNode>, parent: Map<number, number>, selfUs: Map<number, number>,
  name: string, busy: number, top: number, depth: number,
): void {
  const paths = new Map<string, number>();
  for (const [id, us] of selfUs) {
    if (byId.get(id)!.callFrame.functionName !== name) continue;
    const frames: string[] = [];
    for (let cur = parent.get(id); cur !== undefined && frames.length < depth; cur = parent.get(cur)) frames.push(label(byId.get(cur)!.callFrame));
    const key = frames.join('\n      <- ');
    paths.set(key, (paths.get(key) ?? 0) + us);
  }
  console.log(`callers of ${name} (${profile.samples.length} samples in profile):`);
  for (const [path, us] of [...paths].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / busy).toFixed(1).padStart(5)} %\n      <- ${path}`);
  }
}

function isProject(key: string): boolean {
  return / (src\/|build\/src\/)/.test(key);
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '30' }, filter: { type: 'string' }, callers: { type: 'string' }, depth: { type: 'string', default: '6' }, from: { type: 'string' }, to: { type: 'string' } },
  });
  if (positionals.length !== 1) {
    console.log('Usage: node build/bench/profile-summary.js FILE.cpuprofile [--top N] [--filter TEXT] [--callers NAME [--depth N]] [--from S] [--to S]');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(positionals[0], 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const fromUs = values.from === undefined ? -Infinity : Number(values.from) * 1e6;
  const toUs = values.to === undefined ? Infinity : Number(values.to) * 1e6;
  const selfUs = new Map<number, number>();
  let elapsed = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    elapsed += delta;
    if (elapsed < fromUs || elapsed > toUs) return;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  });
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  let idle = 0;

  const selfByFunction = new Map<string, number>();
  const nodesByFunction = new Map<string, ProfileNode[]>();
  const inclusiveByFunction = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    if (node.callFrame.functionName === '(idle)') idle += us;
    const key = label(node.callFrame);
    selfByFunction.set(key, (selfByFunction.get(key) ?? 0) + us);
    nodesByFunction.set(key, [...(nodesByFunction.get(key) ?? []), node]);
    // Inclusive: every distinct function on the stack gets the sample once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = label(byId.get(cur)!.callFrame);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusiveByFunction.set(k, (inclusiveByFunction.get(k) ?? 0) + us);
    }
  }
  const busy = total - idle;
  if (values.callers) {
    printCallers(profile, byId, parent, selfUs, values.callers, busy, Number(values.top), Number(values.depth));
    return;
  }
  const top = Number(values.top);
  const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)} %`;
  const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
  const keep = (k: string) => !values.filter || k.includes(values.filter);
  console.log(`profile: ${(total / 1e6).toFixed(1)} s sampled, ${(idle / 1e6).toFixed(1)} s idle, ${(busy / 1e6).toFixed(1)} s busy; percentages are of busy time`);
  console.log(`\ntop ${top} by self time:`);
  for (const [k, us] of [...selfByFunction].filter(([k]) => keep(k) && !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top)) {
    const hot = isProject(k) ? hottestLine(nodesByFunction.get(k) ?? []) : null;
    console.log(`${ms(us)} ${pct(us)}  ${k}${hot ? `  hottest ${hot}` : ''}`);
  }
  console.log(`\ntop ${top} project functions (src/) by inclusive time:`);
  for (const [k, us] of [...inclusiveByFunction].filter(([k]) => isProject(k) && keep(k)).sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${ms(us)} ${pct(us)}  ${k}`);
  }
}

main();
