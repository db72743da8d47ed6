// A worker that keeps dying (here: its data folder cannot be created) is restarted
// quickly at first, then backed off and shown as such in `cluster status` and the
// log; once the fault is gone it comes back by itself. The other worker serves on.
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { python } from '../support/clients.js';
import { TestCluster } from '../support/cluster.js';

const cluster = new TestCluster();
afterAll(async () => cluster.destroy());

describe('a crash-looping worker', () => {
  it('is backed off, reported, and recovers when the fault is gone', async () => {
    const blocker = path.join(cluster.data, 'node-2');
    writeFileSync(blocker, 'not a folder');
    await cluster.start({ waitRunning: false, env: { TERNMAIL_LOG_LEVEL: 'info' } });

    const backedOff = await cluster.waitForWorkers((r) => r[1]?.state === 'backoff' && r[0]?.state === 'running');
    expect(backedOff[1].restarts).toBeGreaterThan(5);
    expect(cluster.output).toMatch(/"crashLoop":true[^\n]*worker exited; restarting/);
    expect((await cluster.cli(['cluster', 'status'])).stdout).toMatch(/^2\s+-\s+mta,store,access\s+backoff\s/m);

    await cluster.addUsers('loop.test', ['still@loop.test']);
    const served = await python(`
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1])); print(s.sendmail('x@remote.test', ['still@loop.test'], b'Subject: up\\r\\n\\r\\nx\\r\\n')); s.quit()
`, [String(cluster.ports!.smtp)]);
    expect(served.stdout.trim()).toBe('{}');

    rmSync(blocker);
    await cluster.waitForWorkers((r) => r[1]?.state === 'running', 30_000);
  }, 60_000);
});
