#!/usr/bin/env node
// The `ternmail` command: `start` runs a server; every other command reaches a running
// server through its admin API. Errors are one line on stderr and a non-zero exit.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { callAdmin, CliError, configFileOf, findAdmin, type AdminTarget } from './admin-client.js';
import { importUsers } from './import-users.js';
import { runPlugins } from './plugins-command.js';
import { runDkim } from './dkim-command.js';
import { ConfigError } from '../config/config.js';
import { defaultConfig, loadSettings, rolesOf, startHelp } from '../settings.js';
import { StartupError } from '../core/startup-error.js';
import { startFlagValues, startOptions } from './start-flags.js';
import { backup, expunge, mailboxExport, mailboxImport, restore, search, userAction, userRename, userShow } from './mail-commands.js';
import { dataFolderOf } from './admin-client.js';
import { signalServer } from './signal-command.js';
import { Progress } from './progress.js';
import { runConfig, configHelp } from './config-command.js';
import { layoutProblem } from '../cluster/data-layout.js';
import { NODE_WORKER_ENV, workerDataPath } from '../cluster/worker-nodes.js';

const out = (line: string): void => {
  process.stdout.write(line + '\n');
};

function version(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const candidate of ['../../package.json', '../../../package.json']) {
    try {
      return (JSON.parse(readFileSync(path.join(here, candidate), 'utf8')) as { version: string }).version;
    } catch {
      continue;
    }
  }
  return 'unknown';
}

const adminOptions = {
  data: { type: 'string' },
  config: { type: 'string' },
  admin: { type: 'string' },
  token: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const adminHelp = `  --data DIR        data folder of the running server (default: TERNMAIL_DATA, then the
                    config file's server.data, then ./data)
  --config FILE     config file to find the data folder in (or TERNMAIL_CONFIG,
                    or /etc/ternmail/config.json)
  --admin URL       admin API address, instead of --data
  --token TOKEN     admin token (with --admin; or TERNMAIL_ADMIN_TOKEN)`;

const help: Record<string, string> = {
  main: `ternmail ${version()}: an ISP-scale mail system (SMTP, POP3, IMAP) on supervised actors

Usage: ternmail COMMAND [options]

Commands:
  start                        run the server
  domain add|remove|list NAME  manage local domains
  user add EMAIL               add a user (--password-stdin or --password P) [--quota BYTES]
  user remove EMAIL            remove a user
  user list                    list users
  user passwd EMAIL            change a password (--password-stdin or --password P)
  user quota EMAIL BYTES       set a quota (0 = unlimited)
  user import FILE             bulk add: 'address password' or JSON lines
  user show EMAIL              quota, usage, messages per folder, last login
  user disable|enable EMAIL    refuse or allow the user's logins (mail is still delivered)
  user rename EMAIL NEW        give the mailbox a new address (aliases follow; --keep-alias)
  mailbox export EMAIL --format mbox|maildir DIR     write a user's mail to files
  mailbox import EMAIL --format mbox|maildir PATH    add mail from files (Dovecot, mutt, ...)
  search --from X --subject S --since DATE --before DATE   find messages across users
  expunge (same criteria) --yes                      remove them, for abuse handling
  backup DIR                   consistent snapshot of a running server's store
  restore DIR [--force]        put a backup into a stopped server's data folder
  alias add ADDRESS TARGET[,TARGET...]   add an alias (ADDRESS may be @domain: catch-all)
  alias remove ADDRESS         remove an alias
  alias list                   list aliases
  route add DOMAIN HOST[:PORT] deliver a remote domain's mail to HOST (wins over MX)
  route remove DOMAIN, route list
  queue list                   show the mail queue (like mailq)
  queue flush [DOMAIN]         retry deferred recipients now (all, or one destination)
  queue hold|release|delete|retry ID   act on one queued message
  stats                        counters as one line of JSON
  cluster status               one row per worker process and the totals (with --workers N),
                               or per node of a cluster of machines (with --cluster)
  cluster rebalance            even out mailboxes across the store workers, with progress
  auth blocked                 addresses and accounts refused after failed logins, with time left
  auth unblock ADDRESS|IP      lift such a block now
  plugins [--json]             loaded plugins: hooks, calls, errors, time per call, backoff
  dkim keygen DOMAIN --selector S [--algorithm rsa|ed25519]   a DKIM key; prints the TXT record
  config show [-n]             effective settings and where each came from (default/file/env/flag)
  config check                 validate the settings 'start' would use
  reload                       re-read the settings and TLS files (SIGHUP to the server's pid)
  log reopen                   reopen the log file after logrotate (SIGUSR1 to the server's pid)

Run 'ternmail COMMAND --help' for a command's options. 'ternmail --version' prints the version.`,
  start: `Usage: ternmail start [options]

${startHelp()}

Every setting also reads TERNMAIL_<NAME> from the environment (e.g. TERNMAIL_SMTP_PORT)
and the config file's sections (e.g. {"smtp": {"port": 2525}}); docs/configuration.md lists them all.`,
  domain: `Usage: ternmail domain add NAME | remove NAME | list\n\n${adminHelp}`,
  plugins: `Usage: ternmail plugins [list] [--json]\n\nThe plugins the running server loaded (docs/plugins.md), with calls, errors and time per hook.\n\n  --json            one line of JSON\n${adminHelp}`,
  user: `Usage:
  ternmail user add EMAIL (--password-stdin | --password P) [--quota BYTES]
  ternmail user remove EMAIL
  ternmail user list
  ternmail user passwd EMAIL (--password-stdin | --password P)
  ternmail user quota EMAIL BYTES
  ternmail user import FILE     one 'address password' per line, or JSON lines
                                {"address": ..., "password": ..., "quota": ...}
  ternmail user show EMAIL      quota, usage, messages per folder, last login
  ternmail user disable EMAIL   refuse the user's logins; 'enable' allows them again
  ternmail user rename EMAIL NEW [--keep-alias]
                                the mailbox, its folders and quota go to NEW; aliases
                                that pointed at EMAIL point at NEW; --keep-alias keeps
                                EMAIL as an alias of NEW

  --password-stdin  read the password from standard input (first line)
  --password P      the password on the command line (for scripts)
  --quota BYTES     mailbox quota (0 = unlimited)
${adminHelp}`,
  alias: `Usage: ternmail alias add ADDRESS TARGET[,TARGET...] | remove ADDRESS | list

ADDRESS "@domain" is a catch-all for the domain. Targets may be local or remote.
${adminHelp}`,
  queue: `Usage: ternmail queue list | flush [DOMAIN] | hold ID | release ID | delete ID | retry ID

  list      every queued message: id, size, arrival, sender, recipients with state, last error, next attempt
  flush     retry deferred recipients now (and lift a destination's backoff)
  hold      keep a message in the queue without delivery attempts until released
  release   undo hold and deliver now
  delete    remove a message from the queue without delivering or bouncing it
  retry     retry one message's deferred recipients now
${adminHelp}`,
  route: `Usage: ternmail route add DOMAIN HOST[:PORT] | remove DOMAIN | list

Static routes win over MX lookup (and over a configured smarthost).
${adminHelp}`,
  cluster: `Usage: ternmail cluster status | rebalance

  status     one row per worker: id, pid, roles, state, uptime, restarts, mailboxes,
             stored bytes, queue depth, sessions, messages/s over the last minute; then totals.
             On several machines (--cluster): one row per node, from any node: number (* = this
             one), address, roles, state (up, lapsed, stopped), lease age, uptime, mailboxes,
             sessions, queue, delivered
  rebalance  move mailboxes from the most to the least loaded store worker until the
             mailbox counts differ by at most one; shows progress; Ctrl-C stops it
             safely after the mailbox being moved. On several machines it first drains
             live nodes without the store role (restart a node with --roles mta,access)

${adminHelp}`,
  auth: `Usage: ternmail auth blocked | unblock ADDRESS|IP

  blocked   one row per blocked client address (too many failed logins from it) and
            locked account (too many failed logins for it): failures and time left
  unblock   forget the failures of an account or a client address now

${adminHelp}`,
  restore: `Usage: ternmail restore BACKUP [--data DIR] [--force]

Puts a backup made by 'ternmail backup' into the data folder of a stopped server
(one process or a cluster, as the backup was taken). The data folder is found as
for every command (--data, TERNMAIL_DATA, the config file). An existing store is
refused unless --force, which moves it aside.`,
  migrate: `Usage: ternmail migrate --data DIR --workers N

Converts a stopped server's data folder for another number of processes.
  --workers 2 or more  one process -> cluster: DIR/store becomes node 1's shard
                       (DIR/node-1/store), its directory the primary's (DIR/directory),
                       every mailbox placed on node 1; then 'ternmail cluster rebalance'
  --workers 1          cluster -> one process, when the cluster has a single shard
An interrupted migration is finished by running the same command again.`,
  config: configHelp,
  mailbox: `Usage: ternmail mailbox export EMAIL --format mbox|maildir DIR
       ternmail mailbox import EMAIL --format mbox|maildir PATH [--folder NAME]

  export   every folder of the user: mbox writes DIR/<folder>.mbox (mboxrd, flags in
           Status/X-Status), maildir writes a Maildir++ tree (INBOX at DIR, folders .a.b)
  import   an mbox file (into --folder, or the folder named like the file; INBOX for
           'inbox') or a Maildir++ tree (its folders, under --folder if given); flags
           and dates are kept. Both show a progress bar (plain lines off a terminal).
${adminHelp}`,
  search: `Usage: ternmail search [--from TEXT] [--subject TEXT] [--since DATE] [--before DATE]

Every message of every user matching all the criteria given: user, folder, UID,
date, sender and subject. TEXT matches part of the address or subject, any case;
DATE is YYYY-MM-DD (received on or after --since, before --before).
${adminHelp}`,
  expunge: `Usage: ternmail expunge [--from TEXT] [--subject TEXT] [--since DATE] [--before DATE] --yes

Removes every message 'ternmail search' would list with the same criteria, from
every user's folders, for good. Without --yes nothing is removed.
${adminHelp}`,
  backup: `Usage: ternmail backup DIR

Writes a consistent snapshot of the running server's store (directory, mailboxes,
queue, bodies) to DIR/store, with DIR/backup.json; the server keeps serving. A
cluster writes DIR/directory and DIR/node-N/store. Restore it with
'ternmail restore DIR --data DATA' while the server is stopped.
${adminHelp}`,
  stats: `Usage: ternmail stats\n\nPrints one line of JSON: messages, queued, blobs, blobBytes, ...\n${adminHelp}`,
};

async function readPasswordFromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) chunks.push(chunk);
  const password = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0];
  if (!password) throw new CliError('no password on standard input');
  return password;
}

function parse(args: string[], options: ParseArgsConfig['options']): { values: Record<string, unknown>; positionals: string[] } {
  try {
    const parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { values: parsed.values as Record<string, unknown>, positionals: parsed.positionals };
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

function need(positionals: string[], index: number, what: string): string {
  const value = positionals[index];
  if (!value) throw new CliError(`missing ${what}`);
  return value;
}

async function password(values: Record<string, unknown>): Promise<string> {
  if (typeof values.password === 'string') return values.password;
  if (values['password-stdin']) return readPasswordFromStdin();
  throw new CliError('give the password with --password-stdin or --password');
}

async function runStart(args: string[]): Promise<void> {
  const { values } = parse(args, startOptions());
  if (values.help) return out(help.start);
  // Everything the server creates (store, pid and admin files) is for its owner only.
  process.umask(0o077);
  const configFile = configFileOf(values.config as string | undefined);
  const sources = { flags: startFlagValues(values), env: process.env, configFile };
  const { config, deprecations } = loadSettings(sources);
  // Loaded here, not at the top: every other command starts without the server's code.
  const [{ openLogger }, { startProcessMetrics }, { installProcessPolicy }, { handleProcessSignals, reopenLogOnSignal }, { reloadSettingsOnSignal },
    { bindsPrivilegedPorts, checkUserSwitch, dropPrivileges, handOver }, { default: cluster }, { startQuietHeapTrim }] = await Promise.all([
    import('../core/logger.js'), import('../core/metrics.js'), import('../core/process-policy.js'), import('./process-signals.js'),
    import('./live-settings.js'), import('./privileges.js'), import('node:cluster'), import('../core/quiet-heap.js'),
  ]);
  const logger = openLogger({ level: config.log.level, file: config.log.file, format: config.log.format as 'json' | 'pretty' });
  const log = logger.log;
  reopenLogOnSignal(logger, log);
  reloadSettingsOnSignal(config, sources, log);
  installProcessPolicy(log);
  startQuietHeapTrim(log);
  startProcessMetrics(cluster.isWorker ? `worker-${process.env.TERNMAIL_NODE_ID}`
    : config.cluster.nats !== '' ? `node-${config.cluster.nodeId}` : config.cluster.workers > 1 ? 'primary' : 'main');
  const nodeWorker = process.env[NODE_WORKER_ENV.index];
  if (cluster.isWorker && nodeWorker !== undefined) {
    // Worker k of a node of a cluster of machines run with --workers: a node of its own, with its own store.
    const index = Number(nodeWorker);
    const { runNode } = await import('../node.js');
    const server = await runNode({ ...config, server: { ...config.server, data: workerDataPath(config.server.data, index) } }, log,
      { index, adminToken: process.env[NODE_WORKER_ENV.adminToken] ?? '' });
    handleProcessSignals(server, log);
    process.on('disconnect', () => void server.stop().finally(() => process.exit(0)));
    return;
  }
  if (cluster.isWorker) {
    const node = Number(process.env.TERNMAIL_NODE_ID);
    const { runWorker } = await import('../worker.js');
    await runWorker(config, log, node, rolesOf(config.cluster, node));
    return;
  }
  // Once per start: workers read the same file, the primary (or the single process) speaks for it.
  for (const line of deprecations) log.warn(line);
  const natsWorkers = config.cluster.nats !== '' && config.cluster.workers > 1;
  // A node's workers keep their stores in DATA/worker-k (checked by runNodeWorkers).
  const layoutRefusal = natsWorkers ? null : layoutProblem(config.server.data, config.cluster.workers);
  if (layoutRefusal) throw new CliError(layoutRefusal);
  const account = checkUserSwitch(config.server.user);
  const files = { data: config.server.data, logFile: config.log.file };
  const runAs = account ? {
    uid: account.uid, gid: account.gid, privilegedPorts: bindsPrivilegedPorts(config),
    handOver: () => handOver(account, files), drop: () => dropPrivileges(account, files, log),
  } : undefined;
  const server = await (natsWorkers
    ? import('../node-workers.js').then(({ runNodeWorkers }) => runNodeWorkers(config, log, runAs))
    : config.cluster.nats !== ''
    // Loaded only for a node of several machines: one process and --workers never load the NATS client.
    ? import('../node.js').then(({ runNode }) => runNode(config, log))
    : config.cluster.workers > 1
    ? import('../primary.js').then(({ runPrimary }) => runPrimary(config, log, {
      workers: config.cluster.workers, roles: (node) => rolesOf(config.cluster, node), runAs,
    }))
    : import('../server.js').then(({ startServer }) => startServer(config, log))
  ).catch((err: unknown) => {
    log.debug({ err }, 'start failed');
    throw err;
  });
  // A process that forks workers (a cluster's primary, a NATS node's) drops them itself, once every worker listens.
  if (account && config.cluster.workers <= 1) dropPrivileges(account, files, log);
  handleProcessSignals(server, log);
}

async function runDomain(args: string[], admin: AdminTarget): Promise<void> {
  const [action, name] = args;
  if (action === 'add') {
    await callAdmin(admin, 'POST', '/v1/domains', { name: need(args, 1, 'domain name') });
    return out(`domain added: ${name.toLowerCase()}`);
  }
  if (action === 'remove') {
    await callAdmin(admin, 'DELETE', `/v1/domains/${encodeURIComponent(need(args, 1, 'domain name'))}`);
    return out(`domain removed: ${name.toLowerCase()}`);
  }
  if (action === 'list') {
    for (const d of await callAdmin<Array<{ name: string }>>(admin, 'GET', '/v1/domains')) out(d.name);
    return;
  }
  throw new CliError(`unknown domain action: ${action ?? '(none)'} (add, remove, list)`);
}

async function runUser(args: string[], values: Record<string, unknown>, admin: AdminTarget): Promise<void> {
  const [action] = args;
  switch (action) {
    case 'add': {
      const address = need(args, 1, 'user address');
      const quota = values.quota === undefined ? undefined : Number(values.quota);
      if (quota !== undefined && (!Number.isSafeInteger(quota) || quota < 0)) throw new CliError('--quota must be a number of bytes');
      await callAdmin(admin, 'POST', '/v1/users', { address, password: await password(values), quota });
      return out(`user added: ${address.toLowerCase()}`);
    }
    case 'remove': {
      const address = need(args, 1, 'user address');
      await callAdmin(admin, 'DELETE', `/v1/users/${encodeURIComponent(address)}`);
      return out(`user removed: ${address.toLowerCase()}`);
    }
    case 'list':
      for (const u of await callAdmin<Array<{ address: string; quota: number }>>(admin, 'GET', '/v1/users')) {
        out(u.quota ? `${u.address}\tquota=${u.quota}` : u.address);
      }
      return;
    case 'passwd': {
      const address = need(args, 1, 'user address');
      await callAdmin(admin, 'PUT', `/v1/users/${encodeURIComponent(address)}/password`, { password: await password(values) });
      return out(`password changed: ${address.toLowerCase()}`);
    }
    case 'quota': {
      const address = need(args, 1, 'user address');
      const quota = Number(need(args, 2, 'quota in bytes'));
      await callAdmin(admin, 'PUT', `/v1/users/${encodeURIComponent(address)}/quota`, { quota });
      return out(`quota set: ${address.toLowerCase()} ${quota}`);
    }
    case 'import': {
      const skipped = await importUsers(admin, need(args, 1, 'file'), out);
      if (skipped > 0) process.exitCode = 3;
      return;
    }
    case 'show':
      return userShow(admin, need(args, 1, 'user address'), out);
    case 'disable':
    case 'enable':
      return userAction(admin, action, need(args, 1, 'user address'), out);
    case 'rename':
      return userRename(admin, need(args, 1, 'user address'), need(args, 2, 'new address'), values['keep-alias'] === true, out);
  }
  throw new CliError(`unknown user action: ${action ?? '(none)'} (add, remove, list, passwd, quota, import, show, disable, enable, rename)`);
}

async function runAlias(args: string[], admin: AdminTarget): Promise<void> {
  const [action] = args;
  if (action === 'add') {
    const address = need(args, 1, 'alias address');
    const targets = args.slice(2).join(',').split(',').map((t) => t.trim()).filter(Boolean);
    if (targets.length === 0) throw new CliError('missing alias target(s)');
    await callAdmin(admin, 'POST', '/v1/aliases', { address, targets });
    return out(`alias added: ${address.toLowerCase()} -> ${targets.join(',')}`);
  }
  if (action === 'remove') {
    const address = need(args, 1, 'alias address');
    await callAdmin(admin, 'DELETE', `/v1/aliases/${encodeURIComponent(address)}`);
    return out(`alias removed: ${address.toLowerCase()}`);
  }
  if (action === 'list') {
    for (const a of await callAdmin<Array<{ address: string; targets: string[] }>>(admin, 'GET', '/v1/aliases')) {
      out(`${a.address}\t${a.targets.join(',')}`);
    }
    return;
  }
  throw new CliError(`unknown alias action: ${action ?? '(none)'} (add, remove, list)`);
}

interface Listing {
  id: string; arrived: number; size: number; from: string; held: boolean;
  recipients: Array<{ address: string; state: string; attempts: number; lastError: string | null; nextAttempt: number }>;
}

function formatQueue(entries: Listing[]): string[] {
  if (entries.length === 0) return ['Mail queue is empty'];
  const lines = ['-Queue ID-            --Size-- ----Arrival Time---- -Sender/Recipient-------'];
  let pending = 0;
  for (const e of entries) {
    const when = new Date(e.arrived).toISOString().replace('T', ' ').slice(0, 19);
    lines.push(`${(e.id + (e.held ? '!' : '')).padEnd(21)} ${String(e.size).padStart(8)} ${when} ${e.from || '<>'}`);
    for (const r of e.recipients) {
      if (r.state === 'done') continue;
      pending += 1;
      const next = r.state === 'deferred' ? ` next ${new Date(r.nextAttempt).toISOString().slice(11, 19)}` : '';
      if (r.lastError) lines.push(`${''.padEnd(52)}(${r.lastError}; attempts ${r.attempts}${next})`);
      lines.push(`${''.padEnd(52)}${r.address} [${r.state}]`);
    }
    lines.push('');
  }
  lines.push(`-- ${entries.length} message(s), ${pending} recipient(s) waiting.`);
  return lines;
}

async function runQueue(args: string[], admin: AdminTarget): Promise<void> {
  const [action] = args;
  if (action === 'list' || action === undefined) {
    for (const line of formatQueue(await callAdmin<Listing[]>(admin, 'GET', '/v1/queue'))) out(line);
    return;
  }
  if (action === 'flush') {
    await callAdmin(admin, 'POST', '/v1/queue/flush', { domain: args[1] });
    return out(`queue flushed: deferred recipients${args[1] ? ` for ${args[1]}` : ''} will be retried now`);
  }
  if (action === 'hold' || action === 'release' || action === 'delete' || action === 'retry') {
    const id = need(args, 1, 'queue id');
    await callAdmin(admin, 'POST', `/v1/queue/${encodeURIComponent(id)}/${action}`);
    return out(`${id}: ${action === 'delete' ? 'deleted' : action === 'hold' ? 'held' : action === 'release' ? 'released' : 'retrying'}`);
  }
  throw new CliError(`unknown queue action: ${action} (list, flush, hold, release, delete, retry)`);
}

async function runRoute(args: string[], admin: AdminTarget): Promise<void> {
  const [action] = args;
  if (action === 'add') {
    const domain = need(args, 1, 'domain');
    const target = need(args, 2, 'HOST[:PORT]');
    const bracket = /^\[(.+)\](?::(\d+))?$/.exec(target);
    const colon = target.lastIndexOf(':');
    const [host, port] = bracket ? [bracket[1], bracket[2] ?? '25'] : colon > 0 ? [target.slice(0, colon), target.slice(colon + 1)] : [target, '25'];
    if (!/^\d+$/.test(port)) throw new CliError(`invalid port in ${target}`);
    await callAdmin(admin, 'POST', '/v1/routes', { domain, host, port: Number(port) });
    return out(`route added: ${domain.toLowerCase()} -> ${host}:${port}`);
  }
  if (action === 'remove') {
    const domain = need(args, 1, 'domain');
    await callAdmin(admin, 'DELETE', `/v1/routes/${encodeURIComponent(domain)}`);
    return out(`route removed: ${domain.toLowerCase()}`);
  }
  if (action === 'list') {
    for (const r of await callAdmin<Array<{ domain: string; host: string; port: number }>>(admin, 'GET', '/v1/routes')) out(`${r.domain}\t${r.host}:${r.port}`);
    return;
  }
  throw new CliError(`unknown route action: ${action ?? '(none)'} (add, remove, list)`);
}

interface ClusterRow {
  node: number; pid: number | null; roles: string[]; state: string; uptime: number; restarts: number;
  mailboxes: number; storedBytes: number; queueDepth: number; sessions: number; messagesPerSecond: number;
}

interface NodeRow {
  node: number; host: string; roles: string[]; status: string; leaseAgeMs: number; startedAt: number;
  load: { mailboxes: number; sessions: number; queued: number; delivered: number };
}

/** `cluster status` of a cluster of machines: one row per node that ever held a lease. */
function formatNodes(status: { nodes: NodeRow[]; self: number }): string[] {
  const header = ['NODE', 'HOST', 'ROLES', 'STATE', 'LEASE AGE', 'UPTIME', 'MAILBOXES', 'SESSIONS', 'QUEUE', 'DELIVERED'];
  const rows = status.nodes.map((n) => [`${n.node}${n.node === status.self ? '*' : ''}`, n.host, n.roles.join(','), n.status,
    `${(n.leaseAgeMs / 1000).toFixed(1)}s`, n.status === 'up' ? `${Math.round((Date.now() - n.startedAt) / 1000)}s` : '-',
    String(n.load.mailboxes), String(n.load.sessions), String(n.load.queued), String(n.load.delivered)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows].map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd());
}

function formatCluster(status: { workers: ClusterRow[]; totals: Omit<ClusterRow, 'node' | 'pid' | 'roles' | 'state' | 'uptime'> } | { nodes: NodeRow[]; self: number }): string[] {
  if ('nodes' in status) return formatNodes(status);
  const header = ['ID', 'PID', 'ROLES', 'STATE', 'UPTIME', 'RESTARTS', 'MAILBOXES', 'STORED', 'QUEUE', 'SESSIONS', 'MSG/S'];
  const rows = status.workers.map((w) => [String(w.node), String(w.pid ?? '-'), w.roles.join(','), w.state, `${w.uptime}s`, String(w.restarts),
    String(w.mailboxes), String(w.storedBytes), String(w.queueDepth), String(w.sessions), String(w.messagesPerSecond)]);
  const t = status.totals;
  rows.push(['total', '', '', '', '', String(t.restarts), String(t.mailboxes), String(t.storedBytes), String(t.queueDepth), String(t.sessions), String(Math.round(t.messagesPerSecond * 10) / 10)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows].map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd());
}

interface RebalanceProgress {
  running: boolean; toMove: number; moved: number; skipped: number; bytes: number; stopRequested: boolean; lastError: string | null;
}

async function runRebalance(admin: AdminTarget): Promise<void> {
  let progress = await callAdmin<RebalanceProgress>(admin, 'POST', '/v1/cluster/rebalance');
  let interrupted = false;
  const onInterrupt = () => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write('\nstopping after the current mailbox...\n');
    void callAdmin(admin, 'DELETE', '/v1/cluster/rebalance').catch(() => undefined);
  };
  process.on('SIGINT', onInterrupt);
  const bar = new Progress('rebalance', progress.toMove, { unit: 'mailboxes' });
  const detail = (p: RebalanceProgress) => `${(p.bytes / 1048576).toFixed(1)} MiB moved${p.skipped ? `, ${p.skipped} skipped` : ''}`;
  while (progress.running) {
    bar.update(progress.moved + progress.skipped, detail(progress), progress.toMove);
    await new Promise((r) => setTimeout(r, 200));
    progress = await callAdmin<RebalanceProgress>(admin, 'GET', '/v1/cluster/rebalance');
  }
  bar.finish(progress.moved + progress.skipped, detail(progress));
  process.off('SIGINT', onInterrupt);
  out(`rebalance ${progress.stopRequested ? 'stopped' : 'finished'}: ${progress.moved} moved, ${progress.skipped} skipped of ${progress.toMove}`);
  if (progress.lastError) out(`last problem: ${progress.lastError}`);
}

async function runMailbox(args: string[], values: Record<string, unknown>, admin: AdminTarget): Promise<void> {
  const [action] = args;
  if (action === 'export') return mailboxExport(admin, need(args, 1, 'user address'), values.format, need(args, 2, 'folder to write'), out);
  if (action === 'import') return mailboxImport(admin, need(args, 1, 'user address'), values.format, need(args, 2, 'file or folder to read'), values.folder as string | undefined, out);
  throw new CliError(`unknown mailbox action: ${action ?? '(none)'} (export, import)`);
}

/** `reload` and `log reopen`: a signal to the data folder's server, found as every other command finds it. */
async function runSignal(command: 'reload' | 'log', args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { data: { type: 'string' }, config: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  const usage = `Usage: ternmail reload | ternmail log reopen

reload       the server re-reads its settings (flags, environment, config file): the TLS
             key and certificate and log.level change at once, other changes are named
             in the log as waiting for a restart (as SIGHUP; systemctl reload)
log reopen   the server reopens its log file under its configured name (as SIGUSR1),
             for logrotate's postrotate

  --data DIR        data folder of the running server (default: TERNMAIL_DATA, then the
                    config file's server.data, then ./data)
  --config FILE     config file to find the data folder in`;
  if (values.help) return out(usage);
  if (command === 'log' && positionals[0] !== 'reopen') throw new CliError(`unknown log action: ${positionals[0] ?? '(none)'} (reopen)`);
  const { data, from } = dataFolderOf(values as { data?: string; config?: string });
  out(signalServer(data, from, command === 'reload' ? 'SIGHUP' : 'SIGUSR1'));
}

async function runRestore(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { data: { type: 'string' }, config: { type: 'string' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) return out(help.restore);
  const { data } = dataFolderOf(values as { data?: string; config?: string });
  restore(need(positionals, 0, 'backup folder'), path.resolve(data), values.force === true, out);
}

async function runMigrate(args: string[]): Promise<void> {
  const { values } = parse(args, { data: { type: 'string' }, workers: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) return out(help.migrate);
  if (values.workers === undefined) throw new CliError('migrate needs --workers N (the number of processes the folder will run with)');
  const workers = Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new CliError(`--workers: expected a number of workers 1-64, got ${JSON.stringify(values.workers)}`);
  const data = path.resolve((values.data as string | undefined) ?? process.env.TERNMAIL_DATA ?? defaultConfig.server.data);
  // Loaded here: it opens stores (LevelDB), which no other command needs in this process.
  const { migrateDataFolder, MigrateError } = await import('../cluster/migrate.js');
  try {
    for (const line of await migrateDataFolder(data, workers)) out(line);
  } catch (err) {
    if (err instanceof MigrateError) throw new CliError(err.message);
    throw err;
  }
}

async function runCluster(args: string[], admin: AdminTarget): Promise<void> {
  const [action] = args;
  if (action === 'status' || action === undefined) {
    for (const line of formatCluster(await callAdmin(admin, 'GET', '/v1/cluster'))) out(line);
    return;
  }
  if (action === 'rebalance') return runRebalance(admin);
  throw new CliError(`unknown cluster action: ${action} (status, rebalance)`);
}

interface BlockedRow { kind: 'ip' | 'account'; key: string; failures: number; secondsLeft: number }

function formatBlocked(rows: BlockedRow[]): string[] {
  if (rows.length === 0) return ['nothing blocked'];
  const width = Math.max(...rows.map((r) => r.key.length), 'ADDRESS'.length);
  return [
    `${'KIND'.padEnd(8)}${'ADDRESS'.padEnd(width + 2)}${'FAILURES'.padEnd(10)}TIME LEFT`,
    ...rows.map((r) => `${r.kind.padEnd(8)}${r.key.padEnd(width + 2)}${String(r.failures).padEnd(10)}${r.secondsLeft}s`),
  ];
}

async function runAuth(args: string[], admin: AdminTarget): Promise<void> {
  const [action] = args;
  if (action === 'blocked' || action === undefined) {
    for (const line of formatBlocked(await callAdmin<BlockedRow[]>(admin, 'GET', '/v1/auth/blocked'))) out(line);
    return;
  }
  if (action === 'unblock') {
    const target = need(args, 1, 'address or IP');
    await callAdmin(admin, 'DELETE', `/v1/auth/blocked/${encodeURIComponent(target)}`);
    return out(`unblocked ${target}`);
  }
  throw new CliError(`unknown auth action: ${action} (blocked, unblock)`);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-V') return out(version());
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') return out(help.main);
  if (command === 'start') return runStart(rest);
  if (command === 'migrate') return runMigrate(rest);
  if (command === 'dkim') {
    const { values, positionals } = parse(rest, { data: { type: 'string' }, selector: { type: 'string' }, algorithm: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
    if (values.help) return out('Usage: ternmail dkim keygen DOMAIN --selector S [--algorithm rsa|ed25519] [--data DIR]\n\nStores the key in DIR/dkim (default ./data) and prints the TXT record to publish; see docs/plugins.md.');
    return runDkim(positionals, values).forEach(out);
  }
  if (command === 'config') return runConfig(rest, out);
  if (command === 'restore') return runRestore(rest);
  if (command === 'reload' || command === 'log') return runSignal(command, rest);
  if (!(command in help)) throw new CliError(`unknown command: ${command} (see 'ternmail --help')`);
  const extra: ParseArgsConfig['options'] = command === 'user'
    ? { password: { type: 'string' }, 'password-stdin': { type: 'boolean' }, quota: { type: 'string' }, 'keep-alias': { type: 'boolean' } }
    : command === 'plugins' ? { json: { type: 'boolean' } }
    : command === 'mailbox' ? { format: { type: 'string' }, folder: { type: 'string' } }
    : command === 'search' || command === 'expunge'
      ? { from: { type: 'string' }, subject: { type: 'string' }, since: { type: 'string' }, before: { type: 'string' }, yes: { type: 'boolean' } }
      : {};
  const { values, positionals } = parse(rest, { ...adminOptions, ...extra });
  if (values.help) return out(help[command]);
  const admin = findAdmin(values as { data?: string; admin?: string; token?: string; config?: string });
  switch (command) {
    case 'domain': return runDomain(positionals, admin);
    case 'user': return runUser(positionals, values, admin);
    case 'alias': return runAlias(positionals, admin);
    case 'queue': return runQueue(positionals, admin);
    case 'route': return runRoute(positionals, admin);
    case 'cluster': return runCluster(positionals, admin);
    case 'auth': return runAuth(positionals, admin);
    case 'stats': return out(JSON.stringify(await callAdmin(admin, 'GET', '/v1/stats')));
    case 'plugins': return (await runPlugins(positionals, admin, values.json === true)).forEach(out);
    case 'mailbox': return runMailbox(positionals, values, admin);
    case 'search': return search(admin, values, out);
    case 'expunge': return expunge(admin, values, out);
    case 'backup': return backup(admin, need(positionals, 0, 'backup folder'), out);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof CliError || err instanceof ConfigError) {
    process.stderr.write(`ternmail: ${err.message}\n`);
    process.exit(2);
  }
  if (err instanceof StartupError) {
    process.stderr.write(`ternmail: ${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`ternmail: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
