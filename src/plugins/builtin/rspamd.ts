// rspamd (`ternmail/plugins/rspamd`): at data, the message is scanned by rspamd's
// normal worker over its HTTP protocol (POST /checkv2 with the envelope as headers);
// the score goes on top as X-Spam-Score / X-Spam-Status / X-Spam-Action (and
// X-Spam: Yes at or above `junkScore`). At or above `rejectScore` the message is
// refused (550 5.7.1); at beforeDelivery, mail whose X-Spam-Score (the one on top,
// ours) is at or above `junkScore` is filed into `junkFolder`. Authenticated
// submissions are not scanned unless `scanAuthenticated`.
import { definePlugin, type HeaderField } from '../contract/index.js';
import { booleanOption, numberOption, stringOption } from './options.js';

interface CheckResult { score: number; required_score: number; action: string; symbols?: Record<string, { score?: number }> }

export default definePlugin({
  name: 'rspamd',
  setup(api, options) {
    const url = stringOption(options, 'url');
    if (!/^https?:\/\//.test(url)) throw new Error('option url must be the normal worker\'s http:// address, e.g. http://127.0.0.1:11333');
    numberOption(options, 'junkScore', 6, -1000, 1000);
    numberOption(options, 'rejectScore', 15, -1000, 1000);
    booleanOption(options, 'scanAuthenticated', false);
    if (options.junkFolder !== undefined) stringOption(options, 'junkFolder');
  },
  hooks: {
    async data(event, api) {
      if (event.session.user && !booleanOption(api.options, 'scanAuthenticated', false)) return;
      const result = await check(stringOption(api.options, 'url'), event);
      const junkScore = numberOption(api.options, 'junkScore', 6);
      if (result.score >= numberOption(api.options, 'rejectScore', 15)) {
        api.log.info({ score: result.score, client: event.session.client }, 'rspamd: spam refused');
        return { reject: { code: 550, text: `5.7.1 Message refused as spam (score ${result.score.toFixed(1)})` } };
      }
      const symbols = Object.keys(result.symbols ?? {}).sort().join(', ');
      const headers: HeaderField[] = [
        ['X-Spam-Score', result.score.toFixed(2)],
        ['X-Spam-Status', `${result.score >= junkScore ? 'Yes' : 'No'}, score=${result.score.toFixed(2)} required=${junkScore.toFixed(2)}`],
        ['X-Spam-Action', result.action],
      ];
      if (symbols) headers.push(['X-Spam-Symbols', symbols.slice(0, 900)]);
      if (result.score >= junkScore) headers.unshift(['X-Spam', 'Yes']);
      return { addHeaders: headers };
    },
    async beforeDelivery(event, api) {
      const header = (await event.headers()).find(([name]) => name.toLowerCase() === 'x-spam-score');
      const score = header ? Number.parseFloat(header[1]) : Number.NaN;
      if (Number.isFinite(score) && score >= numberOption(api.options, 'junkScore', 6)) {
        return { folder: typeof api.options.junkFolder === 'string' ? api.options.junkFolder : 'Junk' };
      }
    },
  },
});

async function check(url: string, event: { session: { client: string; helo: string; user: string | null }; from: string; recipients: string[]; body(): AsyncIterable<Buffer> }): Promise<CheckResult> {
  const chunks: Buffer[] = [];
  for await (const chunk of event.body()) chunks.push(chunk);
  const headers = new Headers({ IP: event.session.client, From: event.from || '<>' });
  if (event.session.helo) headers.set('Helo', event.session.helo);
  if (event.session.user) headers.set('User', event.session.user);
  for (const rcpt of event.recipients) headers.append('Rcpt', rcpt);
  const res = await fetch(new URL('/checkv2', url), { method: 'POST', headers, body: Buffer.concat(chunks), signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`rspamd answered HTTP ${res.status}`);
  const result = (await res.json()) as CheckResult;
  if (typeof result.score !== 'number') throw new Error('rspamd answered without a score');
  return result;
}
