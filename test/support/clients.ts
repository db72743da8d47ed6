// Test support: real protocol clients. Python's smtplib/poplib run as child processes;
// a raw line client talks to any port for transcripts and bad-input tests.
import { spawn } from 'node:child_process';
import net from 'node:net';

export function python(script: string, args: string[] = [], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return run('python3', ['-c', script, ...args], input);
}

export function run(command: string, args: string[], input?: string, env?: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/** A line-oriented raw TCP client for transcripts. */
export class LineClient {
  private buffer = '';
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  /** localAddress: another loopback address (127.0.0.2 ...) to appear as another client. */
  static connect(port: number, host = '127.0.0.1', localAddress?: string): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host, localAddress }, () => resolve(new LineClient(socket)));
      socket.once('error', reject);
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Waits until the received text matches, and returns (and consumes) it up to the match end. */
  async expect(pattern: RegExp, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(this.buffer);
      if (match) {
        const end = match.index + match[0].length;
        const text = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end);
        return text;
      }
      if (this.closed) throw new Error(`connection closed before ${pattern}; got ${JSON.stringify(this.buffer)}`);
      if (Date.now() > deadline) throw new Error(`timeout waiting for ${pattern}; got ${JSON.stringify(this.buffer)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  async waitClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('connection still open');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
