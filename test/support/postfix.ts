// Test support: a private Postfix (Debian's) on loopback, with its own
// config_directory and queue_directory in a temp folder: smtpd on `smtpPort`, mail
// for `domain` to the addresses in `mailboxes` handed over LMTP to `lmtp` (host:port).
// Nothing of the system's /etc/postfix is used; stop() stops only this instance.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from './server.js';

export interface PrivatePostfix {
  dir: string;
  smtpPort: number;
  /** Postfix's own log (maillog_file), for status=sent / status=bounced lines. */
  maillog(): string;
  stop(): void;
}

export function startPostfix(options: { smtpPort: number; domain: string; mailboxes: string[]; lmtp: string }): PrivatePostfix {
  const dir = tempDir('ternmail-postfix-');
  chmodSync(dir, 0o755);
  const etc = path.join(dir, 'etc');
  const spool = path.join(dir, 'spool');
  const data = path.join(dir, 'data');
  for (const folder of [etc, spool, data]) mkdirSync(folder, { recursive: true, mode: 0o755 });
  execFileSync('chown', ['postfix:postfix', data]);
  const maillog = path.join(dir, 'maillog');
  writeFileSync(path.join(etc, 'vmailbox'), options.mailboxes.map((m) => `${m} OK\n`).join(''));
  writeFileSync(path.join(etc, 'main.cf'), `compatibility_level = 3.6
config_directory = ${etc}
queue_directory = ${spool}
data_directory = ${data}
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
shlib_directory = /usr/lib/postfix
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file_prefixes = ${dir}
maillog_file = ${maillog}
syslog_name = postfix-ternmail-test
myhostname = mx.relay.test
mydomain = relay.test
myorigin = $myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
alias_maps =
alias_database =
default_transport = error:outbound mail disabled in this test
relay_transport = error:outbound mail disabled in this test
local_transport = error:local delivery disabled in this test
disable_dns_lookups = yes
smtp_dns_support_level = disabled
virtual_mailbox_domains = ${options.domain}
virtual_mailbox_maps = texthash:${etc}/vmailbox
virtual_transport = lmtp:inet:${options.lmtp}
lmtp_connect_timeout = 5s
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
`);
  writeFileSync(path.join(etc, 'master.cf'), `127.0.0.1:${options.smtpPort} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`);
  execFileSync('postfix', ['-c', etc, 'set-permissions'], { stdio: 'ignore' });
  execFileSync('postfix', ['-c', etc, 'start'], { stdio: 'ignore' });
  return {
    dir, smtpPort: options.smtpPort,
    maillog: () => (existsSync(maillog) ? readFileSync(maillog, 'utf8') : ''),
    stop: () => {
      if (existsSync(path.join(spool, 'pid', 'master.pid'))) execFileSync('postfix', ['-c', etc, 'stop'], { stdio: 'ignore' });
    },
  };
}
