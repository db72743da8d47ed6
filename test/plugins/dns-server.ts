// Test support: a real DNS server (Debian's dnsmasq) on 127.0.0.1, serving the TXT and
// A records a test gives it and nothing else, on a port of this area's range
// (46000-46999); and a resolver function pointed at it, as mailauth takes one.
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as dns } from 'node:dns';

export interface TestDns {
  port: number;
  resolver: (name: string, type: string) => Promise<unknown>;
  stop(): void;
}

/** Records: TXT values (no commas; split into 255-byte strings when longer) and A addresses. */
export async function startDns(records: { txt?: Record<string, string>; a?: Record<string, string> }): Promise<TestDns> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = 46000 + Math.floor(Math.random() * 1000);
    const args = ['--keep-in-foreground', '--no-hosts', '--no-resolv', '--conf-file=/dev/null', '--pid-file=', '--user=root',
      '--bind-interfaces', '--listen-address=127.0.0.1', `--port=${port}`, '--log-facility=-'];
    for (const [name, value] of Object.entries(records.txt ?? {})) {
      const strings: string[] = [];
      for (let at = 0; at < value.length; at += 255) strings.push(value.slice(at, at + 255));
      // Unquoted: dnsmasq keeps quotes as data when given without a shell; commas separate strings.
      args.push(`--txt-record=${name},${strings.join(',')}`);
    }
    for (const [name, address] of Object.entries(records.a ?? {})) args.push(`--address=/${name}/${address}`);
    const child = spawn('dnsmasq', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (c) => (stderr += c));
    if (!(await listening(child, () => stderr))) continue;
    const resolver = new dns.Resolver({ timeout: 2000, tries: 2 });
    resolver.setServers([`127.0.0.1:${port}`]);
    return {
      port,
      resolver: (name, type) => resolver.resolve(name, type as 'TXT'),
      stop: () => child.kill('SIGTERM'),
    };
  }
  throw new Error('dnsmasq did not start on a free port in 46000-46999');
}

/** True once dnsmasq says it started; false if it exits first (port taken). */
function listening(child: ChildProcess, stderr: () => string): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (/started, version/.test(stderr())) done(true);
    }, 20);
    const done = (ok: boolean) => {
      clearInterval(timer);
      child.removeAllListeners('exit');
      resolve(ok);
    };
    child.once('exit', () => done(false));
  });
}
