// Failed-login limits across a cluster of machines: each node keeps its own auth guard
// (attempt slots, delays and locks are decided locally, without a round trip), and
// tells every other node of each login's outcome on one NATS subject, where they count
// it as their own. Ten failures spread over three nodes thus lock the account on all
// three; a success anywhere clears its failures everywhere (it is sent only when this
// node counted failures for the account); an operator's unblock on
// any node lifts the block on every node. The outcomes are broadcast, not stored: a
// node (re)started counts from what it hears from then on, and one cut off from NATS
// misses what happened meanwhile.
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from '../core/logger.js';
import type { AuthAdmission, AuthGate, AuthGuard, BlockedEntry } from '../net/auth-guard.js';

export const AUTH_SUBJECT = 'ternmail.auth';

type AuthEvent =
  | { node: number; kind: 'outcome'; ip: string; account: string; outcome: 'success' | 'failure' }
  | { node: number; kind: 'unblock'; target: string };

const MAX_EVENT_BYTES = 4096;

export class ClusterAuthGate implements AuthGate {
  private subscription: Subscription | null = null;

  constructor(private readonly nc: NatsConnection, private readonly self: number, private readonly guard: AuthGuard, private readonly log: Logger) {}

  /** Starts counting the other nodes' outcomes. */
  start(): void {
    this.subscription = this.nc.subscribe(AUTH_SUBJECT, {
      callback: (err, msg) => {
        if (err || msg.data.length > MAX_EVENT_BYTES) return;
        let event: AuthEvent;
        try {
          event = JSON.parse(new TextDecoder().decode(msg.data)) as AuthEvent;
        } catch {
          return;
        }
        if (event.node === this.self) return;
        if (event.kind === 'outcome' && typeof event.ip === 'string' && typeof event.account === 'string' && (event.outcome === 'failure' || event.outcome === 'success')) {
          this.guard.record(event.ip, event.account, event.outcome);
        } else if (event.kind === 'unblock' && typeof event.target === 'string') {
          this.guard.unblock(event.target);
        }
      },
    });
  }

  async admit(ip: string, account: string): Promise<AuthAdmission> {
    const admission = await this.guard.admit(ip, account);
    if (!admission.ok) return admission;
    return {
      ...admission,
      settle: (outcome) => {
        // A success only clears failures: with none counted here (every node hears every
        // failure), there is nothing to clear anywhere, and most logins send nothing.
        const clears = outcome === 'success' && this.guard.hasFailures(account);
        admission.settle(outcome);
        if (outcome === 'failure' || clears) this.publish({ node: this.self, kind: 'outcome', ip, account, outcome });
      },
    };
  }

  blocked(): BlockedEntry[] {
    return this.guard.blocked();
  }

  /** Lifts a block here and on every other node; true when this node had one. */
  unblock(target: string): boolean {
    this.publish({ node: this.self, kind: 'unblock', target });
    return this.guard.unblock(target);
  }

  close(): void {
    this.subscription?.unsubscribe();
  }

  private publish(event: AuthEvent): void {
    try {
      this.nc.publish(AUTH_SUBJECT, JSON.stringify(event));
    } catch (err) {
      this.log.warn({ err, kind: event.kind }, 'login outcome not sent to the other nodes');
    }
  }
}
