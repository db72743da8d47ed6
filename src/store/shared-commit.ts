// One synced batch for several writers that act at the same moment: the mailboxes
// receiving one message for their users (W2 fan-out: 100 local recipients, 100 mailbox
// actors). Each writer hands its ops to `commit` and waits as it would for
// Database.commit; the ops go to disk in one Database.commit once every expected writer
// has handed its ops over (or said it will not), or at the latest one turn of the event
// loop after the first writer arrived. That second rule matters: a writer can be an
// actor busy elsewhere (waiting for another shared commit that waits for it), so a
// shared commit never waits for a writer that is not ready; late writers commit on
// their own (and still meet others in the Database's group commit). Nothing is
// acknowledged earlier than before: every writer's promise resolves after the synced
// batch holding its ops, and fails with it.
import type { Database, WriteOp } from './database.js';

interface Waiting {
  ops: WriteOp[];
  resolve: () => void;
  reject: (err: Error) => void;
}

export class SharedCommit {
  private waiting: Waiting[] = [];
  private arrived = 0;
  private closed = false;
  private check: NodeJS.Immediate | null = null;

  /** `expected`: how many writers may hand over ops (fewer is fine: see the file's note). */
  constructor(private readonly db: Database, private readonly expected: number) {}

  /** Resolves once `ops` are on disk in a synced batch, shared with the other writers when they are ready in time. */
  commit(ops: WriteOp[]): Promise<void> {
    if (this.closed) return this.db.commit(ops);
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ ops, resolve, reject });
      this.arrived += 1;
      if (this.arrived >= this.expected) this.flush();
      else this.check ??= setImmediate(() => this.flush());
    });
  }

  /** A writer that will not commit after all (a duplicate delivery, a refusal): nobody waits for it. */
  skip(): void {
    if (this.closed) return;
    this.arrived += 1;
    if (this.arrived >= this.expected) this.flush();
  }

  private flush(): void {
    this.closed = true;
    if (this.check) clearImmediate(this.check);
    this.check = null;
    const group = this.waiting;
    this.waiting = [];
    if (group.length === 0) return;
    const ops = group.length === 1 ? group[0].ops : group.flatMap((w) => w.ops);
    this.db.commit(ops).then(
      () => { for (const w of group) w.resolve(); },
      (err: Error) => { for (const w of group) w.reject(err); },
    );
  }
}
