// The dashboard's two pages, served by the admin listener at `/`: the login form
// (the admin token) and the dashboard itself, one HTML document with its script and
// style inline under a per-response nonce (CSP forbids anything else). The script
// polls GET /v1/dashboard every second and acts through the admin API; everything
// from the network is put into the page as text, never as HTML.

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const style = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d232b}
header{background:#1d3557;color:#fff;padding:10px 20px;display:flex;gap:24px;align-items:baseline}
header h1{font-size:18px;margin:0}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px;padding:16px}
section{background:#fff;border-radius:6px;padding:12px 16px;box-shadow:0 1px 2px #0002}
h2{font-size:15px;margin:0 0 8px}
table{border-collapse:collapse;width:100%}
td,th{text-align:left;padding:3px 6px;border-bottom:1px solid #e4e6ea;font-size:13px;vertical-align:top}
.num{text-align:right;font-variant-numeric:tabular-nums}
button{font-size:12px;margin-right:4px}
.stat{font-size:13px}.stat b{font-size:16px}
.legend>span{margin-right:12px;font-size:12px}
.msg td{color:#555}
form.login{max-width:360px;margin:12vh auto;background:#fff;padding:24px;border-radius:6px;box-shadow:0 1px 3px #0003}
form.login input{width:100%;box-sizing:border-box;padding:6px;margin:8px 0}
.error{color:#b00020}
.c-received{color:#1d3557}.c-delivered{color:#2a9d8f}.c-relayed{color:#b8860b}.c-bounced{color:#e63946}
.logout{color:#fff}
`;

export function loginPage(nonce: string, error: string | null): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>ternmail: log in</title>
<style nonce="${nonce}">${style}</style></head><body>
<form class="login" method="post" action="/login">
<h1>ternmail</h1>
<label for="token">Admin token (from <code>DATA/admin.json</code>)</label>
<input id="token" name="token" type="password" autocomplete="off" autofocus>
${error ? `<p class="error" id="login-error">${escapeHtml(error)}</p>` : ''}
<button type="submit" id="login">Log in</button>
</form></body></html>`;
}

const script = `
const H = { 'x-ternmail-dashboard': '1' };
const series = { received: [], delivered: [], relayed: [], bounced: [] };
const colors = { received: '#1d3557', delivered: '#2a9d8f', relayed: '#e9c46a', bounced: '#e63946' };
let last = null;
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'onclick') e.addEventListener('click', v); else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}
function setText(id, value) { document.getElementById(id).textContent = String(value); }
async function act(method, path, body) {
  const res = await fetch(path, { method, headers: { ...H, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
  const answer = await res.json().catch(() => ({}));
  setText('last-action', res.ok ? method + ' ' + path + ': done' : method + ' ' + path + ': ' + (answer.error || res.status));
  await refresh();
}
function rows(id, list, render) {
  const body = document.getElementById(id);
  body.replaceChildren(...list.map(render));
}
function plot() {
  const canvas = document.getElementById('plot');
  const ctx = canvas.getContext('2d');
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const all = Object.values(series).flat();
  const max = Math.max(1, ...all);
  for (const [name, points] of Object.entries(series)) {
    ctx.strokeStyle = colors[name]; ctx.lineWidth = 2; ctx.beginPath();
    points.forEach((v, i) => {
      const x = canvas.width - (points.length - 1 - i) * (canvas.width / 119);
      const y = canvas.height - 4 - (v / max) * (canvas.height - 8);
      if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    });
    ctx.stroke();
  }
  setText('plot-max', max.toFixed(1) + ' msg/s');
}
function render(d) {
  const s = d.stats;
  for (const k of ['messages', 'queued', 'users', 'domains', 'sessions', 'blobs']) setText('stat-' + k, s[k] ?? 0);
  if (last) {
    const dt = Math.max(0.001, (d.time - last.time) / 1000);
    for (const k of Object.keys(series)) {
      const rate = Math.max(0, (d.throughput[k] - last.throughput[k]) / dt);
      series[k].push(rate); if (series[k].length > 120) series[k].shift();
      setText('rate-' + k, rate.toFixed(1));
    }
  }
  for (const k of Object.keys(series)) setText('total-' + k, d.throughput[k]);
  last = d;
  plot();
  const queueTable = document.getElementById('queue');
  queueTable.querySelectorAll('tbody').forEach((t) => t.remove());
  queueTable.append(...d.queue.map((q) => {
    const tbody = el('tbody', { 'data-domain': q.domain },
      el('tr', {}, el('td', {}, el('b', {}, q.domain)), el('td', { class: 'num' }, q.recipients), el('td', { class: 'num' }, q.deferred), el('td', { class: 'num' }, q.held),
        el('td', {}, el('button', { class: 'flush', onclick: () => act('POST', '/v1/queue/flush', { domain: q.domain }) }, 'flush'))));
    for (const m of q.messages) {
      tbody.append(el('tr', { class: 'msg', 'data-queue-id': m.id },
        el('td', {}, m.id + (m.held ? ' (held)' : '')),
        el('td', { colspan: '3' }, (m.from || '<>') + ' \\u2192 ' + m.recipients.map((r) => r.address + ' [' + r.state + ']' + (r.lastError ? ' ' + r.lastError : '')).join(', ')),
        el('td', {},
          el('button', { class: m.held ? 'release' : 'hold', onclick: () => act('POST', '/v1/queue/' + encodeURIComponent(m.id) + (m.held ? '/release' : '/hold')) }, m.held ? 'release' : 'hold'),
          el('button', { class: 'delete', onclick: () => { if (confirm('Delete ' + m.id + ' without a bounce?')) act('POST', '/v1/queue/' + encodeURIComponent(m.id) + '/delete'); } }, 'delete'))));
    }
    return tbody;
  }));
  document.getElementById('queue-empty').hidden = d.queue.length > 0;
  const cluster = d.cluster;
  document.getElementById('cluster').hidden = !cluster;
  if (cluster) rows('cluster-rows', cluster.workers, (w) => el('tr', {}, el('td', {}, w.node), el('td', {}, w.state), el('td', { class: 'num' }, w.mailboxes),
    el('td', { class: 'num' }, w.queueDepth), el('td', { class: 'num' }, w.sessions), el('td', { class: 'num' }, w.messagesPerSecond), el('td', { class: 'num' }, w.restarts)));
  rows('blocked-rows', d.blocked, (b) => el('tr', { 'data-blocked': b.key }, el('td', {}, b.kind), el('td', {}, b.key), el('td', { class: 'num' }, b.failures), el('td', { class: 'num' }, b.secondsLeft + 's'),
    el('td', {}, el('button', { class: 'unblock', onclick: () => act('DELETE', '/v1/auth/blocked/' + encodeURIComponent(b.key)) }, 'unblock'))));
  rows('rejection-rows', d.rejections, (r) => el('tr', {}, el('td', {}, new Date(r.time).toISOString().slice(11, 19)), el('td', {}, r.listener), el('td', {}, r.client || ''),
    el('td', {}, r.stage), el('td', {}, r.code), el('td', {}, r.reply)));
  document.getElementById('users').hidden = !d.users;
  if (d.users) rows('user-rows', d.users, (u) => el('tr', { 'data-user': u.address }, el('td', {}, u.address), el('td', { class: 'num' }, u.messages), el('td', { class: 'num' }, u.bytes),
    el('td', { class: 'num' }, u.quota ? (100 * u.bytes / u.quota).toFixed(1) + '%' : 'unlimited')));
  setText('updated', new Date(d.time).toISOString().slice(11, 19));
}
async function refresh() {
  const res = await fetch('/v1/dashboard', { headers: H });
  if (res.status === 401) { location.href = '/'; return; }
  render(await res.json());
}
refresh();
setInterval(() => refresh().catch(() => setText('updated', 'unreachable')), 1000);
`;

export function dashboardPage(nonce: string): string {
  const stat = (id: string, label: string) => `<span class="stat">${label} <b id="stat-${id}">-</b></span>`;
  const rate = (id: string, label: string) => `<span class="c-${id}">&#9632; ${label} <b id="rate-${id}">0.0</b>/s (total <span id="total-${id}">0</span>)</span>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>ternmail dashboard</title>
<style nonce="${nonce}">${style}</style></head><body>
<header><h1>ternmail</h1>${stat('messages', 'messages')}${stat('queued', 'queued')}${stat('users', 'users')}${stat('domains', 'domains')}${stat('sessions', 'sessions')}${stat('blobs', 'bodies')}
<span class="stat">updated <span id="updated">-</span></span> <a href="/logout" class="logout">log out</a></header>
<main>
<section><h2>Throughput (last 2 minutes, max <span id="plot-max">-</span>)</h2>
<canvas id="plot" width="560" height="160"></canvas>
<div class="legend">${rate('received', 'in')}${rate('delivered', 'delivered')}${rate('relayed', 'relayed')}${rate('bounced', 'bounced')}</div></section>
<section><h2>Queue by destination</h2><p id="last-action"></p>
<table id="queue"><thead><tr><th>destination</th><th class="num">recipients</th><th class="num">deferred</th><th class="num">held</th><th></th></tr></thead>
</table><p id="queue-empty">Mail queue is empty</p></section>
<section id="cluster" hidden><h2>Cluster workers</h2><table><thead><tr><th>worker</th><th>state</th><th class="num">mailboxes</th><th class="num">queue</th><th class="num">sessions</th><th class="num">msg/s</th><th class="num">restarts</th></tr></thead><tbody id="cluster-rows"></tbody></table></section>
<section><h2>Blocked logins</h2><table><thead><tr><th>kind</th><th>address</th><th class="num">failures</th><th class="num">left</th><th></th></tr></thead><tbody id="blocked-rows"></tbody></table></section>
<section><h2>Recent SMTP and LMTP rejections</h2><table><thead><tr><th>time</th><th>listener</th><th>client</th><th>stage</th><th>code</th><th>reply</th></tr></thead><tbody id="rejection-rows"></tbody></table></section>
<section id="users"><h2>Largest mailboxes</h2><table><thead><tr><th>user</th><th class="num">messages</th><th class="num">bytes</th><th class="num">quota used</th></tr></thead><tbody id="user-rows"></tbody></table></section>
</main>
<script nonce="${nonce}">${script}</script></body></html>`;
}
