// Short fuzz pass over SMTP through a real listener on loopback (the long run is
// `bench/fuzz/run.ts --target smtp-socket`), and the regressions it found, each
// replayed with a real client.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { provision, startTestServer, type TestServer } from '../support/server.js';
import { python } from '../support/clients.js';
import { fuzzConnection, smtpBatch } from '../../bench/fuzz/smtp-target.js';
import { FuzzTally } from '../../bench/fuzz/harness.js';

const FIXED_SEED = 20261203;
const BATCHES = 12;

describe('SMTP fuzzing over a loopback socket', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
    await provision(server, 'fuzz.test', ['user']);
  });

  afterAll(async () => {
    await server.destroy();
  });

  async function runBatches(seed: number): Promise<FuzzTally> {
    const tally = new FuzzTally('smtp-socket', 1000);
    const batches = fc.sample(smtpBatch, { seed, numRuns: BATCHES });
    await Promise.all(batches.map((batch) => fuzzConnection(server.ports.smtp, batch, tally)));
    return tally;
  }

  it('answers fuzzed command batches from the fixed seed without an internal error or a stuck connection', async () => {
    const tally = await runBatches(FIXED_SEED);
    expect(tally.failures).toEqual([]);
    expect(tally.crashes).toBe(0);
    expect(tally.inputs).toBeGreaterThan(BATCHES * 5);
  });

  it('answers fuzzed command batches from a random seed the same way', async () => {
    const seed = Math.floor(Math.random() * 2 ** 31);
    console.info(`fuzz smtp-socket: random seed ${seed} (batches: fc.sample(smtpBatch, { seed, numRuns: ${BATCHES} }))`);
    const tally = await runBatches(seed);
    expect(tally.crashes).toBe(0);
  });

  it('refuses STARTTLS when no certificate is configured instead of waiting 60 s for a handshake', async () => {
    // Found by the fuzzer: smtp-server fell back to its built-in self-signed certificate.
    const result = await python(`
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=10)
s.ehlo('fuzz.test')
print(s.docmd('STARTTLS')[0])
print(s.noop()[0])
s.quit()
`, [String(server.ports.smtp)]);
    expect(result.stderr).toBe('');
    const [starttls, noop] = result.stdout.trim().split('\n').map(Number);
    expect(starttls).toBeGreaterThanOrEqual(500);
    expect(noop).toBe(250);
  });

  it('still greets a plain client after the fuzzing', async () => {
    const result = await python(`
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=10)
print(s.ehlo('after.test')[0])
s.quit()
`, [String(server.ports.smtp)]);
    expect(result.stdout.trim()).toBe('250');
  });
});
