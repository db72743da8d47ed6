// The transport between nodes on different machines: each node answers requests on
// its own NATS subject (`ternmail.node.<id>`), msgpackr-encoded, one NATS
// request/reply per request. It implements the same `NodeTransport` as the unix
// sockets between workers of one machine, so nothing above knows which it runs on.
// A node that is not connected has no subscriber: NATS answers "no responders" at
// once, which becomes a TransportError like a refused unix socket.
import { Packr } from 'msgpackr';
import { NoRespondersError, RequestError, TimeoutError, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { TransportError, type NodeTransport, type RequestHandler } from './transport.js';

const packr = new Packr({ useRecords: false, mapsAsObjects: true });

/** What a node answers: the handler's value, or the message of the error it threw. */
type Answer = { ok: true; body: unknown } | { ok: false; error: string };

export function nodeSubject(node: number): string {
  return `ternmail.node.${node}`;
}

export class NatsTransport implements NodeTransport {
  private readonly subscriptions: Subscription[] = [];

  constructor(private readonly nc: NatsConnection, private readonly self: number, private readonly handler: RequestHandler) {}

  /**
   * Starts answering requests addressed to this node, and those addressed to `shared`
   * (the primary's number, 0, on one machine): one node of the queue group answers each.
   */
  listen(shared?: number): void {
    this.subscribe(nodeSubject(this.self));
    if (shared !== undefined) this.subscribe(nodeSubject(shared), 'ternmail-nodes');
  }

  private subscribe(subject: string, queue?: string): void {
    this.subscriptions.push(this.nc.subscribe(subject, {
      queue,
      callback: (err, msg) => {
        if (err) return;
        let body: { from: number; body: unknown };
        try {
          body = packr.unpack(msg.data) as { from: number; body: unknown };
        } catch (error) {
          msg.respond(packr.pack({ ok: false, error: `undecodable request: ${(error as Error).message}` } satisfies Answer));
          return;
        }
        this.handler(body.body, body.from).then(
          (value) => this.answer(msg, { ok: true, body: value }),
          (error: Error) => this.answer(msg, { ok: false, error: error.message }),
        );
      },
    }));
  }

  private answer(msg: { respond(data: Uint8Array): boolean }, answer: Answer): void {
    try {
      msg.respond(packr.pack(answer));
    } catch (err) {
      // Too large for the server's max_payload, or the connection is closing: the asker times out.
      msg.respond(packr.pack({ ok: false, error: `answer not sent: ${(err as Error).message}` } satisfies Answer));
    }
  }

  async request<Res>(node: number, body: unknown, timeoutMs = 30_000): Promise<Res> {
    let reply;
    try {
      reply = await this.nc.request(nodeSubject(node), packr.pack({ from: this.self, body }), { timeout: timeoutMs });
    } catch (err) {
      const noResponders = err instanceof NoRespondersError || (err instanceof RequestError && err.isNoResponders());
      if (noResponders) throw new TransportError(`node ${node} is not connected`);
      if (err instanceof TimeoutError) throw new TransportError(`request to node ${node} timed out`);
      throw new TransportError(`request to node ${node} failed: ${(err as Error).message}`);
    }
    const answer = packr.unpack(reply.data) as Answer;
    if (!answer.ok) throw new TransportError(answer.error);
    return answer.body as Res;
  }

  async close(): Promise<void> {
    for (const subscription of this.subscriptions.splice(0)) subscription.unsubscribe();
  }
}
