// The body of the MIME analysis thread: analyzes the messages it is sent and posts
// their structures back. Runs in a worker_thread (see off-thread.ts), so a large or
// hostile body never holds up the event loop serving every session.
import { parentPort } from 'node:worker_threads';
import { analyzeMessage } from './analyze.js';
import type { MimeLimits } from './types.js';

export interface AnalyzeRequest {
  id: number;
  raw: Uint8Array;
  limits: MimeLimits;
}

parentPort?.on('message', (request: AnalyzeRequest) => {
  const raw = Buffer.from(request.raw.buffer, request.raw.byteOffset, request.raw.byteLength);
  try {
    parentPort!.postMessage({ id: request.id, structure: analyzeMessage(raw, request.limits) });
  } catch (err) {
    parentPort!.postMessage({ id: request.id, error: (err as Error).message });
  }
});
