// A write the disk refused (full, or failing). Callers answer "try later" (SMTP 452,
// IMAP NO) instead of crashing; `code` is 'ENOSPC' when the disk is full, so the
// IMAP layer can say so, and 'EIO' for any other refused write.

export class StorageError extends Error {
  readonly code: 'ENOSPC' | 'EIO';

  constructor(cause: unknown, what: string) {
    const message = cause instanceof Error ? cause.message : String(cause);
    super(`${what}: ${message}`, { cause });
    this.code = isDiskFull(cause) ? 'ENOSPC' : 'EIO';
  }
}

/** LevelDB reports a full disk as an IO error whose text carries strerror(ENOSPC). */
function isDiskFull(err: unknown): boolean {
  const e = err as { code?: string; message?: string; cause?: unknown } | null;
  if (!e) return false;
  if (e.code === 'ENOSPC') return true;
  if (typeof e.message === 'string' && /no space left on device|ENOSPC/i.test(e.message)) return true;
  return e.cause !== undefined && e.cause !== err && isDiskFull(e.cause);
}

export function isStorageError(err: unknown): err is StorageError {
  return err instanceof StorageError;
}
