// Test support: one login attempt per connection over IMAP, POP3 or SMTP AUTH, from a
// chosen loopback address (127.0.0.2 ... stand in for other clients); returns the reply line.
import { LineClient } from './clients.js';

export async function imapLogin(port: number, user: string, password: string, from = '127.0.0.1'): Promise<string> {
  const client = await LineClient.connect(port, '127.0.0.1', from);
  try {
    await client.expect(/^\* OK[^\r\n]*\r\n/);
    client.send(`a1 LOGIN "${user}" "${password}"\r\n`);
    return (await client.expect(/^a1 [^\r\n]*\r\n/m, 30_000)).split('\r\n').find((l) => l.startsWith('a1 '))!;
  } finally {
    client.close();
  }
}

export async function pop3Login(port: number, user: string, password: string, from = '127.0.0.1'): Promise<string> {
  const client = await LineClient.connect(port, '127.0.0.1', from);
  try {
    await client.expect(/^\+OK[^\r\n]*\r\n/);
    client.send(`USER ${user}\r\n`);
    await client.expect(/^\+OK[^\r\n]*\r\n/m);
    client.send(`PASS ${password}\r\n`);
    return (await client.expect(/^[+-](OK|ERR)[^\r\n]*\r\n/m, 30_000)).trim();
  } finally {
    client.close();
  }
}

export async function smtpAuth(port: number, user: string, password: string, from = '127.0.0.1'): Promise<string> {
  const client = await LineClient.connect(port, '127.0.0.1', from);
  try {
    await client.expect(/^220 [^\r\n]*\r\n/);
    client.send('EHLO client.test\r\n');
    await client.expect(/250 [^\r\n]*\r\n(?![\s\S])/);
    client.send(`AUTH PLAIN ${Buffer.from(`\0${user}\0${password}`).toString('base64')}\r\n`);
    return (await client.expect(/^\d{3} [^\r\n]*\r\n/m, 30_000)).trim();
  } finally {
    client.close();
  }
}
