// Test support: TLS handshakes against any ternmail listener, implicit or after the
// protocol's STARTTLS/STLS, with chosen protocol versions; reports the negotiated
// version and the peer certificate's fingerprint, or the handshake error.
import net from 'node:net';
import tls from 'node:tls';

export type TlsEntry = 'implicit' | 'smtp-starttls' | 'imap-starttls' | 'pop3-stls';

export interface HandshakeResult {
  ok: boolean;
  protocol?: string | null;
  fingerprint?: string;
  error?: string;
}

/** TLS 1.0/1.1 only, with every cipher allowed, so that only the server's version floor can refuse it. */
export const OLD_TLS: tls.ConnectionOptions = { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' };
export const TLS12: tls.ConnectionOptions = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' };

const UPGRADES: Record<Exclude<TlsEntry, 'implicit'>, Array<[string | null, RegExp]>> = {
  'smtp-starttls': [[null, /^220 .*\r\n/m], ['EHLO probe.test\r\n', /^250 .*\r\n/m], ['STARTTLS\r\n', /^220 .*\r\n/m]],
  'imap-starttls': [[null, /^\* OK.*\r\n/m], ['t1 STARTTLS\r\n', /^t1 OK.*\r\n/m]],
  'pop3-stls': [[null, /^\+OK.*\r\n/m], ['STLS\r\n', /^\+OK.*\r\n/m]],
};

/** Connects, upgrades the way `entry` says, and reports the handshake. */
export async function probeTls(port: number, entry: TlsEntry, options: tls.ConnectionOptions): Promise<HandshakeResult> {
  const socket = entry === 'implicit' ? undefined : await upgradeReady(port, UPGRADES[entry]);
  return new Promise((resolve) => {
    const secure = tls.connect({ ...options, host: '127.0.0.1', port, socket, rejectUnauthorized: false, servername: 'localhost' }, () => {
      const fingerprint = secure.getPeerCertificate().fingerprint256;
      resolve({ ok: true, protocol: secure.getProtocol(), fingerprint });
      secure.destroy();
    });
    secure.on('error', (err) => {
      resolve({ ok: false, error: err.message });
      secure.destroy();
    });
  });
}

/** A plain connection taken through the dialogue up to the point where TLS starts. */
async function upgradeReady(port: number, steps: Array<[string | null, RegExp]>): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  let received = '';
  const onData = (chunk: Buffer) => (received += chunk.toString('latin1'));
  socket.on('data', onData);
  for (const [command, reply] of steps) {
    if (command) socket.write(command);
    const deadline = Date.now() + 5000;
    while (!reply.test(received)) {
      if (Date.now() > deadline) throw new Error(`no ${reply} after ${command ?? 'connect'}: ${received}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    received = '';
  }
  socket.off('data', onData);
  return socket;
}
