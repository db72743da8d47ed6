// Plugin failures: a hook that throws or hangs is logged with the plugin's name, the
// plugin is restarted, the client gets 451 (or nothing happens, with onError
// "continue") while other mail flows; a plugin failing again and again is backed off
// and `ternmail plugins` shows it; acknowledged mail is neither lost nor doubled.
import { afterEach, describe, expect, it } from 'vitest';
import { provision, waitFor, waitForMessages, stats, type TestServer } from '../support/server.js';
import { greetedClient, transaction } from '../support/smtp-transcript.js';
import { capturingLogger } from '../support/log-capture.js';
import { run } from '../support/clients.js';
import { fixture, journal, startPluginServer } from './plugin-server.js';

let server: TestServer | null = null;
afterEach(async () => {
  await server?.destroy();
  server = null;
});

const message = (subject: string) => `From: s@remote.test\r\nSubject: ${subject}\r\n\r\nhello\r\n`;

async function send(port: number, to: string, from = 'sender@remote.test'): Promise<string> {
  const client = await greetedClient(port);
  try {
    const replies = await transaction(client, from, to, message(to));
    return replies.end || replies.rcptTo || replies.mailFrom;
  } finally {
    client.close();
  }
}

describe('plugin supervision', () => {
  it('a hook that throws gives 451, is logged with the plugin name, restarts the plugin, and other mail flows', async () => {
    const { log, lines } = capturingLogger();
    const setups = journal();
    server = await startPluginServer([{ module: fixture('thrower.mjs') }, { module: fixture('restarts.mjs'), options: { journal: setups.file } }], {}, log);
    await provision(server, 'example.test', ['alice', 'boom']);
    expect(await send(server.ports.smtp, 'boom@example.test')).toBe('451 4.3.0 Temporary failure in plugin thrower; try again later');
    expect(await send(server.ports.smtp, 'alice@example.test')).toMatch(/^250 /);
    await waitForMessages(server, 1);
    const failure = lines.find((l) => l.plugin === 'thrower' && /failed in rcptTo/.test(String(l.msg)));
    expect(failure).toBeDefined();
    expect((failure!.err as { message: string }).message).toBe('plugin bug');
    // The other plugin failing restarts it: its setup runs again.
    expect(await send(server.ports.smtp, 'alice@example.test', 'crash@remote.test')).toMatch(/^451 /);
    await waitFor(async () => setups.lines().length === 2, 5000, 'setup to run again');
  });

  it('with onError "continue" a failing plugin is skipped and the mail is accepted', async () => {
    server = await startPluginServer([{ module: fixture('thrower.mjs'), onError: 'continue' }]);
    await provision(server, 'example.test', ['boom']);
    expect(await send(server.ports.smtp, 'boom@example.test')).toMatch(/^250 /);
    await waitForMessages(server, 1);
  });

  it('a hook that does not answer within its timeout counts as a failure (451) and does not hold up other sessions', async () => {
    const { log, lines } = capturingLogger();
    server = await startPluginServer([{ module: fixture('hanger.mjs'), timeout: 0.5 }], {}, log);
    await provision(server, 'example.test', ['alice', 'hang']);
    const hanging = send(server.ports.smtp, 'hang@example.test');
    expect(await send(server.ports.smtp, 'alice@example.test')).toMatch(/^250 /);
    expect(await hanging).toMatch(/^451 4\.3\.0 Temporary failure in plugin hanger/);
    expect(lines.some((l) => l.plugin === 'hanger' && /did not answer within 500 ms/.test(String((l.err as { message?: string } | undefined)?.message)))).toBe(true);
  });

  it('a plugin that keeps failing is backed off, its hooks skipped (onError applies), and `ternmail plugins` shows it', async () => {
    const setups = journal();
    server = await startPluginServer([{ module: fixture('restarts.mjs'), options: { journal: setups.file } }]);
    await provision(server, 'example.test', ['alice']);
    for (let i = 0; i < 6; i++) expect(await send(server.ports.smtp, 'alice@example.test', 'crash@remote.test')).toMatch(/^451 /);
    // Backed off: even a sender the plugin would accept gets the onError outcome, without a call.
    expect(await send(server.ports.smtp, 'alice@example.test')).toMatch(/^451 /);
    const cli = await run('node', ['build/src/cli/main.js', 'plugins', '--data', server.dataDir]);
    expect(cli.stderr).toBe('');
    expect(cli.stdout).toMatch(/^restarts +\S+restarts\.mjs +backoff \(\d+ s left\) +onError=tempfail +timeout=5s +restarts=6$/m);
    expect(cli.stdout).toMatch(/last error: mailFrom: crash on purpose/);
    expect(cli.stdout).toMatch(/^ +mailFrom +6 +6 +1 +\d+\.\d\d$/m);
  });

  it('a failure at beforeDelivery defers the delivery: the message is stored once, on the retry', async () => {
    server = await startPluginServer([{ module: fixture('flaky-delivery.mjs') }]);
    await provision(server, 'example.test', ['alice']);
    expect(await send(server.ports.smtp, 'alice@example.test')).toMatch(/^250 /);
    await waitForMessages(server, 1, 15_000);
    await waitFor(async () => (await stats(server!)).queued === 0, 10_000, 'queue to empty');
    expect((await stats(server)).messages).toBe(1);
  });
});
