// Test support for the metrics tests: fetches /metrics, runs Debian's promtool on
// it, and reads one family's value (summed over the series whose labels match).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { run } from '../support/clients.js';

export function adminOf(data: string): { url: string; token: string } {
  return JSON.parse(readFileSync(path.join(data, 'admin.json'), 'utf8'));
}

export async function scrape(data: string, withToken = true): Promise<{ status: number; contentType: string; text: string }> {
  const { url, token } = adminOf(data);
  const res = await fetch(`${url}/metrics`, { headers: withToken ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text: await res.text() };
}

/** `promtool check metrics` on the text: its exit code and complaints. */
export async function promtool(text: string): Promise<{ code: number; output: string }> {
  const { code, stdout, stderr } = await run('promtool', ['check', 'metrics'], text);
  return { code, output: stdout + stderr };
}

/** Sum of the samples of `name` whose labels include every pair of `labels`. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = new Map([...(match[2] ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => present.get(k) === v)) sum += Number(match[3]);
  }
  return sum;
}
