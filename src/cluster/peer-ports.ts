// The ports of one worker of a node run with `--workers`, for the IMAP and POP3 sessions
// other nodes relay to the mailboxes it holds. The machine's own listeners are shared by
// all its workers (node:cluster hands each connection to the next one), so a relayed
// login there could land on a worker without the mailbox; these ports are this
// process's alone (bound exclusively, a free port each, on the node's address) and are
// announced in its lease. A connection here is served exactly as one on the shared
// listener (same greeting, same cluster-ticket login).
import net from 'node:net';
import type { Logger } from '../core/logger.js';

export interface PeerPorts {
  imap: number;
  pop3: number;
  close(): Promise<void>;
}

type Protocol = 'imap' | 'pop3';

function listenExclusive(host: string, onConnection: (socket: net.Socket) => void): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer(onConnection);
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/** `accept` serves a connection on this process's listener for the protocol; false when it has none (no access role). */
export async function openPeerPorts(accept: (protocol: Protocol, socket: net.Socket) => boolean, bind: string, log: Logger): Promise<PeerPorts> {
  const servers: net.Server[] = [];
  const open = async (protocol: Protocol): Promise<number> => {
    const server = await listenExclusive(bind, (socket) => {
      if (!accept(protocol, socket)) socket.destroy();
    });
    server.on('error', (err) => log.error({ err, protocol }, 'peer port error'));
    servers.push(server);
    return (server.address() as net.AddressInfo).port;
  };
  const ports = { imap: await open('imap'), pop3: await open('pop3') };
  log.info(ports, 'listening for relayed sessions on ports of this worker');
  return {
    ...ports,
    close: () => Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))).then(() => undefined),
  };
}
