// In a cluster the primary's auth guard decides for every worker, so that spreading
// guesses over workers (which the primary hands connections to in turn) gains nothing.
// Workers reserve and settle attempt slots over the transport.
import type { Logger } from '../core/logger.js';
import { reserveWhenFree, type AuthGate, type AuthAdmission, type AuthGuard, type AuthOutcome, type AuthReservation } from '../net/auth-guard.js';
import type { NodeTransport } from '../transport/transport.js';
import type { NodeRequest } from './protocol.js';

const PRIMARY = 0;
const ASK_TIMEOUT_MS = 5000;

/** A worker's gate: asks the primary; its own guard stands in while the primary cannot answer. */
export class PrimaryAuthGate implements AuthGate {
  constructor(private readonly transport: NodeTransport, private readonly standIn: AuthGuard, private readonly log: Logger) {}

  async admit(ip: string, account: string): Promise<AuthAdmission> {
    let reservation: AuthReservation;
    try {
      reservation = await reserveWhenFree(() =>
        this.transport.request<AuthReservation>(PRIMARY, { kind: 'auth-reserve', ip, account } satisfies NodeRequest, ASK_TIMEOUT_MS));
    } catch (err) {
      this.log.warn({ err }, 'auth guard of the primary not reachable; this worker decides alone');
      return this.standIn.admit(ip, account);
    }
    if (!reservation.ok) return reservation;
    return { ...reservation, settle: (outcome) => this.settle(ip, account, outcome) };
  }

  private settle(ip: string, account: string, outcome: AuthOutcome): void {
    this.transport.request(PRIMARY, { kind: 'auth-settle', ip, account, outcome } satisfies NodeRequest, ASK_TIMEOUT_MS)
      .catch((err) => this.log.warn({ err, outcome }, 'login outcome not recorded by the primary'));
  }
}

/** The primary's side: answers the workers' requests from its guard. */
export function answerAuthRequest(guard: AuthGuard, request: Extract<NodeRequest, { kind: 'auth-reserve' | 'auth-settle' }>): AuthReservation | null {
  if (request.kind === 'auth-reserve') return guard.reserve(request.ip, request.account);
  guard.settle(request.ip, request.account, request.outcome);
  return null;
}
