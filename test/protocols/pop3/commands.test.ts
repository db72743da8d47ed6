// The pure POP3 command parser, table-driven from the command forms in RFC 1939,
// RFC 2449, RFC 2595 and RFC 5034.

import { describe, expect, it } from 'vitest';
import { parseCommand, type Pop3Command } from '../../../src/protocols/pop3/commands.js';

const accepted: Array<[string, Pop3Command]> = [
  ['USER mrose', { name: 'USER', user: 'mrose' }],
  ['user mrose', { name: 'USER', user: 'mrose' }],
  ['PASS secret', { name: 'PASS', password: 'secret' }],
  ['PASS with spaces inside', { name: 'PASS', password: 'with spaces inside' }],
  ['APOP mrose c4c9334bac560ecc979e58001b3e22fb', { name: 'APOP' }],
  ['STAT', { name: 'STAT' }],
  ['LIST', { name: 'LIST' }],
  ['LIST 2', { name: 'LIST', message: 2 }],
  ['list 007', { name: 'LIST', message: 7 }],
  ['RETR 1', { name: 'RETR', message: 1 }],
  ['DELE 1', { name: 'DELE', message: 1 }],
  ['NOOP', { name: 'NOOP' }],
  ['RSET', { name: 'RSET' }],
  ['QUIT', { name: 'QUIT' }],
  ['TOP 1 10', { name: 'TOP', message: 1, lines: 10 }],
  ['TOP 1 0', { name: 'TOP', message: 1, lines: 0 }],
  ['UIDL', { name: 'UIDL' }],
  ['UIDL 2', { name: 'UIDL', message: 2 }],
  ['CAPA', { name: 'CAPA' }],
  ['STLS', { name: 'STLS' }],
  ['AUTH', { name: 'AUTH' }],
  ['AUTH plain', { name: 'AUTH', mechanism: 'PLAIN' }],
  ['AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=', { name: 'AUTH', mechanism: 'PLAIN', initialResponse: 'dGVzdAB0ZXN0AHRlc3Q=' }],
  ['AUTH PLAIN =', { name: 'AUTH', mechanism: 'PLAIN', initialResponse: '=' }],
  ['STAT   ', { name: 'STAT' }],
  ['RETR 12\t \t', { name: 'RETR', message: 12 }],
  ['PASS secret \t', { name: 'PASS', password: 'secret' }],
  ['RETR 0000000000000000000042', { name: 'RETR', message: 42 }],
  ['TOP 3 000', { name: 'TOP', message: 3, lines: 0 }],
  ['TOP 999999999999999 1', { name: 'TOP', message: 999999999999999, lines: 1 }],
];

const rejected: Array<[string, string]> = [
  ['', 'empty command'],
  ['   ', 'empty command'],
  ['HELO there', 'unknown command'],
  ['USER', 'USER needs a user name'],
  ['PASS', 'PASS needs a password'],
  ['STAT 1', 'STAT takes no arguments'],
  ['RETR', 'RETR needs exactly one message number'],
  ['RETR 1 2', 'RETR needs exactly one message number'],
  ['RETR x', 'invalid message number "x"'],
  ['RETR 0', 'message numbers start at 1'],
  ['RETR 0000', 'message numbers start at 1'],
  ['RETR 1a', 'invalid message number "1a"'],
  ['RETR 0x10', 'invalid message number "0x10"'],
  ['RETR ١', 'invalid message number "?"'],
  ['DELE +1', 'invalid message number "+1"'],
  ['RETR 1e3', 'invalid message number "1e3"'],
  ['LIST 1 2', 'LIST takes at most one message number'],
  ['UIDL \u0001', 'invalid message number "?"'],
  ['TOP 1', 'TOP needs a message number and a line count'],
  ['TOP 1 -1', 'invalid line count "-1"'],
  ['TOP 9999999999999999 1', 'invalid message number "9999999999999999"'],
  ['AUTH PLAIN a b', 'AUTH takes a mechanism and an optional initial response'],
];

describe('parseCommand', () => {
  it.each(accepted)('parses %j', (line, command) => {
    expect(parseCommand(line)).toEqual({ ok: true, command });
  });

  it.each(rejected)('rejects %j: %s', (line, error) => {
    expect(parseCommand(line)).toEqual({ ok: false, error });
  });

  it('cuts long client text in errors to printable ASCII', () => {
    const result = parseCommand(`RETR ${'9x'.repeat(100)}`);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error.length).toBeLessThan(70);
  });
});
