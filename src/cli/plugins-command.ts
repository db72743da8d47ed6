// `ternmail plugins`: what the running server loaded, from its admin API: each plugin
// with its module, failure policy, state (running, or backed off and for how long),
// restarts and last error, then one row per hook with calls, errors, calls skipped
// while backed off, and the average time per call.
import { callAdmin, type AdminTarget } from './admin-client.js';

interface PluginRow {
  /** In a cluster: the worker the row is from. */
  node?: number;
  name: string;
  module: string;
  onError: string;
  timeoutMs: number;
  state: 'running' | 'backoff';
  backoffMs: number;
  restarts: number;
  lastError: string | null;
  hooks: Array<{ hook: string; calls: number; errors: number; skipped: number; avgMs: number }>;
}

export function formatPlugins(rows: PluginRow[]): string[] {
  if (rows.length === 0) return ['no plugins loaded (the config file\'s "plugins" list is empty)'];
  const lines: string[] = [];
  for (const p of rows) {
    const state = p.state === 'backoff' ? `backoff (${Math.ceil(p.backoffMs / 1000)} s left)` : 'running';
    lines.push(`${p.node === undefined ? '' : `node ${p.node}  `}${p.name}  ${p.module}  ${state}  onError=${p.onError}  timeout=${p.timeoutMs / 1000}s  restarts=${p.restarts}`);
    if (p.lastError) lines.push(`  last error: ${p.lastError}`);
    lines.push(`  ${'hook'.padEnd(16)}${'calls'.padStart(8)}${'errors'.padStart(8)}${'skipped'.padStart(9)}${'ms/call'.padStart(10)}`);
    for (const h of p.hooks) {
      lines.push(`  ${h.hook.padEnd(16)}${String(h.calls).padStart(8)}${String(h.errors).padStart(8)}${String(h.skipped).padStart(9)}${h.avgMs.toFixed(2).padStart(10)}`);
    }
  }
  return lines;
}

export async function runPlugins(args: string[], admin: AdminTarget, json: boolean): Promise<string[]> {
  if (args.length > 0 && args[0] !== 'list') return [`unknown plugins command: ${args[0]} (ternmail plugins [list] [--json])`];
  const rows = await callAdmin<PluginRow[]>(admin, 'GET', '/v1/plugins');
  return json ? [JSON.stringify(rows)] : formatPlugins(rows);
}
