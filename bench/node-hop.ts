// The cross-node hop of a cluster of machines: a request/reply over NATS to a running
// node's subject (`ternmail.node.N`), msgpackr-encoded as nodes send them, answered by
// the node's transport handler without touching any actor or disk ('ping'). Prints
// p50/p99 in ms of N sequential hops, optionally while the nodes are under load.
import { parseArgs } from 'node:util';
import { connect } from '@nats-io/transport-node';
import { Packr } from 'msgpackr';
import { LatencySamples } from './latency.js';

const usage = `Usage: node build/bench/node-hop.js NATS_URL NODE [--count N] [--from ID]

  NATS_URL   nats://HOST:PORT of one of the cluster's NATS servers
  NODE       the node to ping (its --node-id)
  --count N  hops (default 2000)
  --from ID  the node id the requests claim to come from (default 0)`;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: {
    count: { type: 'string', default: '2000' }, from: { type: 'string', default: '0' }, help: { type: 'boolean', short: 'h' },
  } });
  if (values.help || positionals.length < 2) {
    console.log(usage);
    return;
  }
  const packr = new Packr({ useRecords: false, mapsAsObjects: true });
  const nc = await connect({ servers: positionals[0] });
  const subject = `ternmail.node.${positionals[1]}`;
  const request = packr.pack({ from: Number(values.from), body: { kind: 'ping' } });
  const samples = new LatencySamples();
  for (let i = 0; i < Number(values.count); i++) {
    const start = performance.now();
    const reply = packr.unpack((await nc.request(subject, request, { timeout: 5000 })).data) as { ok: boolean; error?: string };
    if (!reply.ok) throw new Error(`node answered an error: ${reply.error}`);
    samples.add(performance.now() - start);
  }
  await nc.close();
  console.log(`hop to node ${positionals[1]}: ${samples.count} requests, p50 ${samples.quantile(0.5).toFixed(3)} ms, p99 ${samples.quantile(0.99).toFixed(3)} ms`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
