// How many messages the server has stored, from an operator-given shell command:
// it may print a bare integer, or the JSON of `ternmail stats` (its "messages").
import { exec } from 'node:child_process';

export interface StoreFigures {
  messages: number;
  blobBytes?: number;
}

export function parseCountOutput(text: string): StoreFigures {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    const stats = JSON.parse(trimmed) as { messages?: number; blobBytes?: number };
    if (typeof stats.messages !== 'number') throw new Error(`count command printed JSON without "messages": ${trimmed.slice(0, 200)}`);
    return { messages: stats.messages, blobBytes: stats.blobBytes };
  }
  const first = Number(trimmed.split(/\s+/)[0]);
  if (!Number.isFinite(first)) throw new Error(`count command printed neither an integer nor JSON: ${trimmed.slice(0, 200)}`);
  return { messages: first };
}

export function runCountCommand(command: string): Promise<StoreFigures> {
  return new Promise((resolve, reject) => {
    exec(command, { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`count command failed: ${stderr.trim() || err.message}`));
        return;
      }
      try {
        resolve(parseCountOutput(stdout));
      } catch (parseErr) {
        reject(parseErr);
      }
    });
  });
}

/**
 * Polls the count command until it reaches target; returns the monotonic time (ms)
 * at which it first did, or null after timeoutMs.
 */
export async function waitForCount(
  command: string, target: number, intervalMs: number, timeoutMs: number,
): Promise<{ at: number | null; last: number; polls: number }> {
  const deadline = performance.now() + timeoutMs;
  let last = -1;
  let polls = 0;
  while (performance.now() < deadline) {
    last = (await runCountCommand(command)).messages;
    polls += 1;
    if (last >= target) return { at: performance.now(), last, polls };
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return { at: null, last, polls };
}
