// MIME analysis of large bodies on a worker thread. Small mail (the common case) is
// analyzed inline, where it costs well under a millisecond; past OFF_THREAD_BYTES the
// body goes to one long-lived analysis thread so the event loop is never held up by
// it. If the thread cannot run, analysis falls back to inline.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { analyzeMessage } from './analyze.js';
import type { AnalyzeRequest } from './analyze-thread.js';
import type { MessageStructure, MimeLimits } from './types.js';

/** Bodies up to this size are analyzed inline (a few milliseconds at most, hostile or not). */
export const OFF_THREAD_BYTES = 256 * 1024;

interface Pending {
  resolve: (structure: MessageStructure) => void;
  reject: (err: Error) => void;
}

type Reply = { id: number; structure: MessageStructure } | { id: number; error: string };

let worker: Worker | null = null;
let nextId = 0;
const pending = new Map<number, Pending>();

/**
 * The thread's script: beside this module once built. Under the test runner this
 * module is TypeScript source, and the thread runs the built copy in build/.
 */
function threadScript(): string | null {
  const here = fileURLToPath(import.meta.url);
  const built = here.endsWith('.ts')
    ? path.resolve(path.dirname(here), '..', '..', 'build', 'src', 'mime', 'analyze-thread.js')
    : path.join(path.dirname(here), 'analyze-thread.js');
  return existsSync(built) ? built : null;
}

function failAll(err: Error): void {
  for (const p of pending.values()) p.reject(err);
  pending.clear();
  worker = null;
}

function analysisThread(): Worker | null {
  if (worker) return worker;
  const script = threadScript();
  if (!script) return null;
  const started = new Worker(script);
  started.unref();
  started.on('message', (reply: Reply) => {
    const waiting = pending.get(reply.id);
    if (!waiting) return;
    pending.delete(reply.id);
    if ('error' in reply) waiting.reject(new Error(`MIME analysis failed: ${reply.error}`));
    else waiting.resolve(reply.structure);
  });
  started.on('error', (err) => failAll(err));
  started.on('exit', (code) => failAll(new Error(`MIME analysis thread exited (${code})`)));
  worker = started;
  return worker;
}

/** The message's structure; large bodies are analyzed on the analysis thread. */
export function analyzeBody(raw: Buffer, limits: MimeLimits): Promise<MessageStructure> {
  const thread = raw.length > OFF_THREAD_BYTES ? analysisThread() : null;
  if (!thread) return Promise.resolve(analyzeMessage(raw, limits));
  return new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    // Ref'd while a request is out, so the reply is awaited; idle, the thread never keeps the process alive.
    thread.ref();
    const request: AnalyzeRequest = { id, raw, limits };
    thread.postMessage(request);
  }).finally(() => {
    if (pending.size === 0) worker?.unref();
  }) as Promise<MessageStructure>;
}
