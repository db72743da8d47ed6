// The PipelineHooks the services call, over the running plugins: each hook point asks
// the plugins that have that hook, in config order, and merges their verdicts. The
// first reject or tempfail wins and ends the chain; headers to add accumulate; at
// beforeDelivery, discard and redirect end the chain, the first folder wins and flags
// accumulate. A plugin that fails (or is backed off) gives its onError outcome: a 451
// (or a deferred delivery) for "tempfail", nothing for "continue".
import type { Logger } from '../core/logger.js';
import { HOOK_NAMES, type HeaderField, type HookEvents, type HookName } from './contract/events.js';
import type { DeliveryOutcome, GateHook, HeaderOutcome, ObserverHook, PipelineHooks, Refusal } from './contract/pipeline-hooks.js';
import { headerFieldProblem } from './contract/header-fields.js';
import type { PluginHost } from './plugin-host.js';

/** Header fields all plugins together may add to one message. */
const MAX_ADDED_FIELDS = 100;

export class HookChain implements PipelineHooks {
  readonly on: Readonly<Record<HookName, boolean>>;
  private readonly byHook: Record<HookName, Array<{ host: PluginHost }>>;

  constructor(readonly hosts: PluginHost[], hooksOf: (host: PluginHost) => HookName[], private readonly log: Logger) {
    const byHook = Object.fromEntries(HOOK_NAMES.map((h) => [h, [] as Array<{ host: PluginHost }>])) as Record<HookName, Array<{ host: PluginHost }>>;
    for (const host of hosts) for (const hook of hooksOf(host)) byHook[hook].push({ host });
    this.byHook = byHook;
    this.on = Object.fromEntries(HOOK_NAMES.map((h) => [h, byHook[h].length > 0])) as Record<HookName, boolean>;
  }

  async gate<H extends GateHook>(hook: H, event: HookEvents[H]): Promise<Refusal | null> {
    for (const { host } of this.byHook[hook]) {
      const result = await host.call(hook, event);
      if (!result.ok) {
        if (host.onError === 'tempfail') return pluginFailure(host);
        continue;
      }
      const refusal = this.refusalOf(result.verdict, host, hook);
      if (refusal) return refusal;
    }
    return null;
  }

  async unknownRecipient(event: HookEvents['rcptTo']): Promise<string[] | null> {
    for (const { host } of this.byHook.rcptTo) {
      const result = await host.call('rcptTo', event);
      const wanted = result.ok ? (result.verdict as { redirect?: unknown } | undefined)?.redirect : undefined;
      if (!Array.isArray(wanted)) continue;
      const to = wanted.filter(isAddress);
      if (to.length > 0) {
        this.log.info({ plugin: host.name, rcpt: event.to, to }, 'unknown recipient redirected by plugin');
        return to;
      }
    }
    return null;
  }

  data(event: HookEvents['data']): Promise<HeaderOutcome> {
    return this.headers('data', event);
  }

  beforeSend(event: HookEvents['beforeSend']): Promise<HeaderOutcome> {
    return this.headers('beforeSend', event);
  }

  private async headers(hook: 'data' | 'beforeSend', event: unknown): Promise<HeaderOutcome> {
    const addHeaders: HeaderField[] = [];
    let mailFrom: string | undefined;
    for (const { host } of this.byHook[hook]) {
      const result = await host.call(hook, event);
      if (!result.ok) {
        if (host.onError === 'tempfail') return { refusal: pluginFailure(host) };
        continue;
      }
      const refusal = this.refusalOf(result.verdict, host, hook);
      if (refusal) return { refusal };
      const verdict = result.verdict as { addHeaders?: unknown; mailFrom?: unknown } | undefined;
      if (hook === 'beforeSend' && mailFrom === undefined && typeof verdict?.mailFrom === 'string' && isAddress(verdict.mailFrom)) mailFrom = verdict.mailFrom;
      const wanted = verdict?.addHeaders;
      if (wanted === undefined) continue;
      for (const field of Array.isArray(wanted) ? wanted : [wanted]) {
        if (addHeaders.length >= MAX_ADDED_FIELDS) {
          this.log.warn({ plugin: host.name, hook, max: MAX_ADDED_FIELDS }, 'plugin headers past the limit ignored');
          break;
        }
        const problem = headerFieldProblem(field);
        if (problem) this.log.warn({ plugin: host.name, hook, problem }, 'plugin header ignored');
        else addHeaders.push(field as HeaderField);
      }
    }
    return mailFrom === undefined ? { refusal: null, addHeaders } : { refusal: null, addHeaders, mailFrom };
  }

  async beforeDelivery(event: HookEvents['beforeDelivery']): Promise<DeliveryOutcome> {
    let folder: string | undefined;
    let flags: string[] | undefined;
    for (const { host } of this.byHook.beforeDelivery) {
      const result = await host.call('beforeDelivery', event);
      if (!result.ok) {
        if (host.onError === 'tempfail') return { kind: 'refused', refusal: pluginFailure(host) };
        continue;
      }
      const refusal = this.refusalOf(result.verdict, host, 'beforeDelivery');
      if (refusal) return { kind: 'refused', refusal };
      const verdict = (result.verdict ?? {}) as { folder?: unknown; flags?: unknown; discard?: unknown; redirect?: unknown };
      if (verdict.discard === true) return { kind: 'discard', by: host.name };
      if (Array.isArray(verdict.redirect)) {
        const to = verdict.redirect.filter(isAddress);
        if (to.length > 0) return { kind: 'redirect', to, by: host.name };
      }
      if (folder === undefined && typeof verdict.folder === 'string' && validFolder(verdict.folder)) folder = verdict.folder;
      if (Array.isArray(verdict.flags)) flags = [...(flags ?? []), ...verdict.flags.filter(validFlag)];
    }
    return { kind: 'store', folder, flags };
  }

  observe<H extends ObserverHook>(hook: H, event: HookEvents[H]): void {
    // Failures are logged and counted by the host; an observer cannot hold anything up.
    for (const { host } of this.byHook[hook]) void host.call(hook, event);
  }

  private refusalOf(verdict: unknown, host: PluginHost, hook: HookName): Refusal | null {
    if (typeof verdict !== 'object' || verdict === null) return null;
    const { reject, tempfail } = verdict as { reject?: { code?: unknown; text?: unknown }; tempfail?: { code?: unknown; text?: unknown } };
    if (reject) {
      this.log.info({ plugin: host.name, hook }, 'plugin rejected');
      return reply(reject, 500, 550, '5.7.1 Rejected by policy', false);
    }
    if (tempfail) {
      this.log.info({ plugin: host.name, hook }, 'plugin deferred');
      return reply(tempfail, 400, 451, '4.7.1 Try again later', true);
    }
    return null;
  }
}

function reply(given: { code?: unknown; text?: unknown }, base: number, fallback: number, fallbackText: string, temporary: boolean): Refusal {
  const code = typeof given.code === 'number' && Number.isInteger(given.code) && given.code >= base && given.code < base + 100 ? given.code : fallback;
  const text = typeof given.text === 'string' && given.text.trim() !== '' ? given.text.replace(/[\r\n]+/g, ' ').slice(0, 400) : fallbackText;
  return { code, text, temporary };
}

function pluginFailure(host: PluginHost): Refusal {
  return { code: 451, text: `4.3.0 Temporary failure in plugin ${host.name}; try again later`, temporary: true };
}

function isAddress(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 320 && /^[^\s<>@]+@[^\s<>@]+$/.test(value);
}

function validFolder(name: string): boolean {
  return name.length > 0 && name.length <= 200 && !/[\x00-\x1f\x7f*%]/.test(name);
}

function validFlag(flag: unknown): flag is string {
  return typeof flag === 'string' && /^\\?[A-Za-z0-9$_.-]{1,64}$/.test(flag) && flag !== '\\Recent';
}
