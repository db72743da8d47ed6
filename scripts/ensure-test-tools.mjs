// pretest: installs the Debian-packaged clients the tests drive (swaks, mbsync)
// when they are missing. Needs root and Debian's package archive; says so if not.
import { execFileSync, spawnSync } from 'node:child_process';

const wanted = [
  { command: 'swaks', pkg: 'swaks' },
  { command: 'mbsync', pkg: 'isync' },
  { command: 'openssl', pkg: 'openssl' },
  { command: 'dnsmasq', pkg: 'dnsmasq-base' },
  { command: 'rspamd', pkg: 'rspamd' },
  { command: 'nats-server', pkg: 'nats-server' },
  { command: 'postfix', pkg: 'postfix' },
  { command: 'promtool', pkg: 'prometheus' },
  { command: 'chromium', pkg: 'chromium' },
  { command: 'systemd-analyze', pkg: 'systemd' },
];

const missing = wanted.filter(({ command }) => spawnSync('sh', ['-c', `command -v ${command}`]).status !== 0);
if (missing.length > 0) {
  const pkgs = missing.map((m) => m.pkg);
  process.stdout.write(`pretest: installing ${pkgs.join(' ')}\n`);
  const sudo = process.getuid && process.getuid() !== 0 ? ['sudo'] : [];
  try {
    execFileSync(sudo[0] ?? 'apt-get', [...(sudo.length ? ['apt-get'] : []), 'update', '-qq'], { stdio: 'inherit' });
    execFileSync(sudo[0] ?? 'apt-get', [...(sudo.length ? ['apt-get'] : []), 'install', '-y', '-qq', ...pkgs], {
      stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } catch (err) {
    process.stderr.write(`pretest: could not install ${pkgs.join(' ')} (${err.message}); tests that need them will fail\n`);
    process.exitCode = 1;
  }
}
