// Test support: a real rspamd (Debian's) with a minimal configuration in a temp
// folder: Debian's module configuration, one normal worker on 127.0.0.1 (a port of
// this area's range), lookups sent to a local dnsmasq that knows nothing (no waits on
// the outside world), modules that need the network or Redis off, and one test rule:
// TERNMAIL_TEST_SPAMMY scores 8 for a subject containing "spammy-test".
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../support/server.js';
import { startDns, type TestDns } from './dns-server.js';

export interface TestRspamd { url: string; stop(): Promise<void> }

const OFF = ['fuzzy_check', 'rbl', 'surbl', 'phishing', 'dkim_signing', 'arc', 'asn', 'emails', 'greylist', 'ratelimit', 'replies', 'neural', 'history_redis', 'url_redirector'];

export async function startRspamd(): Promise<TestRspamd> {
  const dns = await startDns({});
  const dir = tempDir('ternmail-rspamd-');
  for (const sub of ['db', 'run', 'local.d', 'override.d']) mkdirSync(path.join(dir, sub));
  for (const module of OFF) writeFileSync(path.join(dir, 'local.d', `${module}.conf`), 'enabled = false;\n');
  writeFileSync(path.join(dir, 'override.d', 'options.inc'), `dns {\n  nameserver = ["127.0.0.1:${dns.port}"];\n  timeout = 0.5s;\n  retransmits = 1;\n}\n`);
  writeFileSync(path.join(dir, 'rspamd.local.lua'), `rspamd_config:register_symbol({
  name = 'TERNMAIL_TEST_SPAMMY',
  score = 8.0,
  callback = function(task)
    local subject = task:get_subject() or ''
    return subject:find('spammy%-test') ~= nil
  end,
})
`);
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = 46000 + Math.floor(Math.random() * 1000);
    writeFileSync(path.join(dir, 'rspamd.conf'), `.include "$CONFDIR/common.conf"
options {
  pidfile = "$RUNDIR/rspamd.pid";
  .include "$CONFDIR/options.inc"
  .include(try=true; priority=10) "$LOCAL_CONFDIR/override.d/options.inc"
}
logging {
  type = "console";
  level = "error";
}
worker "normal" {
  bind_socket = "127.0.0.1:${port}";
  count = 1;
  .include "$CONFDIR/worker-normal.inc"
}
`);
    const child = spawn('rspamd', ['-f', '-i', '-c', path.join(dir, 'rspamd.conf'),
      `--var=LOCAL_CONFDIR=${dir}`, `--var=DBDIR=${dir}/db`, `--var=RUNDIR=${dir}/run`, `--var=LOGDIR=${dir}`], { cwd: dir, stdio: 'ignore' });
    const url = `http://127.0.0.1:${port}`;
    if (await up(url, child)) return { url, stop: () => stopAll(child, dns) };
    child.kill('SIGKILL');
  }
  dns.stop();
  throw new Error('rspamd did not start');
}

/** Loading Debian's rules takes rspamd several seconds: poll /ping until it answers or the process exits. */
async function up(url: string, child: ChildProcess): Promise<boolean> {
  let exited = false;
  child.once('exit', () => (exited = true));
  const deadline = Date.now() + 90_000;
  while (!exited && Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

/** Waits for rspamd to exit (its files are written on the way out) before the folder goes. */
async function stopAll(child: ChildProcess, dns: TestDns): Promise<void> {
  dns.stop();
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const force = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(force);
}
