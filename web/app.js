/*
 * app.js - the oxbow OPS & Monitoring console: vanilla JavaScript, no build
 * step, no third-party code. Every value from the CM enters the page as a
 * text node (el() below); nothing is ever assigned to innerHTML, so a store
 * or table name with markup in it is shown as text.
 *
 * Pages (hash routes): #/stores, #/store/<name>, #/hosts, #/alerts, #/audit,
 * #/create.
 * api() is the one fetch wrapper: form-encoded bodies, the session cookie
 * (HttpOnly; the page never sees the token after login), the CM's error
 * shape {"isSuccess":false,"errMsg":...}, and 401 -> the login form.
 */
'use strict';

const REFRESH_MS = 2000;
let timer = null;
let stop = null; /* the current page's cleanup */

/* el('td', {class: 'num'}, 'text', childNode, ...) */
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const k of kids) {
    if (k === null || k === undefined) continue;
    e.appendChild(typeof k === 'object' ? k : document.createTextNode(String(k)));
  }
  return e;
}

function setPage(...nodes) {
  const m = document.getElementById('main');
  m.replaceChildren(...nodes);
}

class AuthError extends Error {}

async function api(method, path, params) {
  const opt = { method, credentials: 'same-origin', headers: {} };
  let url = path;
  if (params) {
    const body = new URLSearchParams(params).toString();
    if (method === 'GET') url += '?' + body;
    else { opt.body = body; opt.headers['Content-Type'] = 'application/x-www-form-urlencoded'; }
  }
  const r = await fetch(url, opt);
  let j;
  try { j = await r.json(); } catch (e) { throw new Error(method + ' ' + path + ': HTTP ' + r.status); }
  if (r.status === 401) throw new AuthError(j.errMsg || 'login required');
  if (!j.isSuccess) throw new Error(j.errMsg || ('HTTP ' + r.status));
  return j;
}

function toast(text, isErr) {
  const t = document.getElementById('toast');
  t.textContent = text;
  t.className = isErr ? 'err' : '';
  t.hidden = false;
  clearTimeout(toast.t);
  toast.t = setTimeout(() => { t.hidden = true; }, isErr ? 8000 : 3000);
}

function confirmAction(text) {
  const d = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = text;
  return new Promise((resolve) => {
    d.addEventListener('close', () => resolve(d.returnValue === 'ok'), { once: true });
    d.returnValue = '';
    d.showModal();
  });
}

const fmtTs = (s) => (s ? new Date(s * 1000).toLocaleString() : '—');
const fmtMs = (ms) => (ms ? new Date(ms).toLocaleString() : '—');
const fmtNum = (v, d) => (typeof v === 'number' ? v.toFixed(d) : '—');

/* ---- login ------------------------------------------------------------ */

function showLogin(msg) {
  const input = el('input', { type: 'password', id: 'token', autocomplete: 'current-password',
                              placeholder: 'cm.auth.token', required: true });
  const err = el('p', { class: 'muted', id: 'login-msg' }, msg || '');
  const form = el('form', { class: 'card login', id: 'login-form', onsubmit: async (ev) => {
    ev.preventDefault();
    try {
      await api('POST', '/console/login', { token: input.value });
      input.value = '';
      route();
    } catch (e) { err.textContent = e.message; }
  } }, el('h1', {}, 'Log in'), el('p', {}, 'This CM requires its API token.'), input, ' ',
  el('button', { class: 'primary', type: 'submit' }, 'Log in'), err);
  setPage(form);
  input.focus();
}

async function guard(fn) {
  try { await fn(); } catch (e) {
    if (e instanceof AuthError) { stopPage(); showLogin(); return; }
    toast(e.message, true);
  }
}

/* ---- Stores ----------------------------------------------------------- */

const COLS = [
  ['name', 'Name'], ['location', 'Region'], ['type', 'Type'], ['rps', 'RPS', 'num'],
  ['delay', 'Latency (s)', 'num'], ['statusText', 'Status'], ['startTimestamp', 'Start timestamp'],
  ['currentTimestamp', 'Current timestamp'], ['subscribers', 'Connections', 'num'],
];
const storesState = { sort: 'name', desc: false, filter: '', rows: [] };

function storeRow(s) {
  const link = el('a', { href: '#/store/' + encodeURIComponent(s.name), class: 'store-link' }, s.name);
  return el('tr', { 'data-name': s.name },
    el('td', { class: 'name' }, link, el('div', { class: 'muted' }, 'topic ' + s.topic)),
    el('td', {}, s.location), el('td', {}, s.type),
    el('td', { class: 'num rps' }, fmtNum(s.rps, 1)), el('td', { class: 'num' }, fmtNum(s.delay, 1)),
    el('td', { class: 'st st-' + s.statusText, title: s.errMsg }, s.statusText),
    el('td', {}, fmtTs(s.startTimestamp)), el('td', {}, fmtTs(s.currentTimestamp)),
    el('td', { class: 'num' }, s.subscribers));
}

function renderStores(tbody, count) {
  const f = storesState.filter.toLowerCase();
  const rows = storesState.rows.filter((s) => !f ||
    [s.name, s.topic, s.statusText, s.host].some((v) => String(v).toLowerCase().includes(f)));
  const k = storesState.sort;
  rows.sort((a, b) => {
    const x = a[k], y = b[k];
    const c = typeof x === 'number' ? x - y : String(x).localeCompare(String(y));
    return storesState.desc ? -c : c;
  });
  tbody.replaceChildren(...rows.map(storeRow));
  count.textContent = rows.length + ' of ' + storesState.rows.length + ' stores';
}

function pageStores() {
  const tbody = el('tbody', { id: 'stores-body' });
  const count = el('span', { class: 'muted', id: 'stores-count' });
  const heads = COLS.map(([k, label]) => el('th', {
    'data-key': k, class: storesState.sort === k ? ('sorted' + (storesState.desc ? ' desc' : '')) : '',
    onclick: (ev) => {
      if (storesState.sort === k) storesState.desc = !storesState.desc;
      else { storesState.sort = k; storesState.desc = false; }
      for (const th of ev.target.parentNode.children)
        th.className = th.dataset.key === storesState.sort ? ('sorted' + (storesState.desc ? ' desc' : '')) : '';
      renderStores(tbody, count);
    } }, label));
  const filter = el('input', { type: 'search', id: 'filter', placeholder: 'Filter by name, topic, status',
    value: storesState.filter, oninput: (ev) => { storesState.filter = ev.target.value; renderStores(tbody, count); } });
  setPage(el('h1', {}, 'Stores'), el('div', { class: 'toolbar' }, filter, count),
          el('table', { id: 'stores' }, el('thead', {}, el('tr', {}, ...heads)), tbody));
  const load = () => guard(async () => {
    const j = await api('GET', '/console/stores');
    storesState.rows = j.stores;
    setActive(j.active);
    document.getElementById('logout').hidden = !j.authRequired;
    renderStores(tbody, count);
    if (!window.__oxFirstStores) window.__oxFirstStores = performance.now();
  });
  load();
  return every(load);
}

function every(fn) {
  const t = setInterval(fn, REFRESH_MS);
  return () => clearInterval(t);
}

function setActive(active) {
  const p = document.getElementById('cm-active');
  p.textContent = active ? 'CM active' : 'CM not active';
  p.className = 'pill ' + (active ? 'ok' : 'bad');
}

/* ---- Store ------------------------------------------------------------ */

function chart(canvas, t, values, label, unit) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 400, h = canvas.clientHeight || 160;
  canvas.width = w * dpr; canvas.height = h * dpr;
  const g = canvas.getContext('2d');
  g.scale(dpr, dpr);
  g.clearRect(0, 0, w, h);
  g.font = '11px system-ui'; g.fillStyle = '#6b7280';
  const max = Math.max(1, ...values) * 1.1;
  const now = Date.now(), from = now - 3600 * 1000;
  const x = (ms) => 40 + (w - 50) * (ms - from) / (now - from);
  const y = (v) => h - 18 - (h - 30) * v / max;
  g.strokeStyle = '#e2e5ea';
  for (let i = 0; i <= 4; i++) {
    const v = max * i / 4;
    g.beginPath(); g.moveTo(40, y(v)); g.lineTo(w - 10, y(v)); g.stroke();
    g.fillText(v.toFixed(v < 10 ? 1 : 0), 2, y(v) + 4);
  }
  g.fillText('-60 min', 40, h - 4); g.fillText('now', w - 30, h - 4);
  g.fillText(label + (unit ? ' (' + unit + ')' : ''), 48, 12);
  g.strokeStyle = '#1f6feb'; g.lineWidth = 1.5; g.beginPath();
  values.forEach((v, i) => { if (i === 0) g.moveTo(x(t[i]), y(v)); else g.lineTo(x(t[i]), y(v)); });
  g.stroke();
}

function kv(pairs) {
  const dl = el('dl', { class: 'kv' });
  for (const [k, v] of pairs) dl.append(el('dt', {}, k), el('dd', { 'data-k': k }, v));
  return dl;
}

function pageStore(name) {
  const title = el('h1', {}, 'Store ', el('span', { id: 'store-name' }, name));
  const detailBox = el('div', { class: 'card', id: 'detail' });
  const infoBox = el('div', { class: 'card', id: 'info' });
  const rpsC = el('canvas', { id: 'chart-rps' }), delayC = el('canvas', { id: 'chart-delay' });
  const cps = el('tbody', {});
  const subsBody = el('tbody', {});
  const logPre = el('pre', { class: 'log', id: 'log' }, '');
  const dl = el('a', { id: 'log-download', download: 'store.log', href: '#' }, 'Download');
  const act = (label, id, path, confirmText, cls) => el('button', { id, class: cls, onclick: async () => {
    if (confirmText && !(await confirmAction(confirmText))) return;
    await guard(async () => {
      const j = await api('POST', path, { crawler: name });
      toast(label + ': ' + (j.message || 'done'));
      if (path === '/crawler/destroy') { location.hash = '#/stores'; return; }
      load();
    });
  } }, label);
  let topicName = '';
  const updateForm = el('form', { class: 'create card', id: 'update-form', onsubmit: async (ev) => {
    ev.preventDefault();
    const p = { topic: topicName };
    for (const [k, v] of new FormData(ev.target)) if (v !== '') p[k] = v;
    if (!(await confirmAction('Update topic ' + topicName + '? Its running stores restart ' +
                              '(they resume from their own log; nothing is lost).'))) return;
    await guard(async () => {
      const j = await api('POST', '/topic/update', p);
      ev.target.reset();
      toast('Topic ' + j.topic.topic + ' updated; restarting ' + j.restarting.length + ' store(s)');
      load();
    });
  } }, ...field('White list', 'whiteList', { placeholder: 'unchanged', id: 'u-whiteList' }),
  ...field('Black list', 'blackList', { placeholder: 'unchanged' }),
  ...field('Retention (s)', 'retention', { placeholder: 'unchanged; store.clearer.outdated' }),
  ...field('Source password', 'password', { type: 'password', autocomplete: 'new-password', placeholder: 'unchanged' }),
  el('span', {}), el('button', { class: 'primary', type: 'submit', id: 'act-update' }, 'Update'));
  const actions = el('div', { class: 'toolbar' },
    act('Pause', 'act-pause', '/crawler/clear', 'Pause store ' + name + '? Capture stops; its log is kept.'),
    act('Start', 'act-start', '/crawler/restore', null, 'primary'),
    el('button', { id: 'act-log', onclick: () => loadLog() }, 'View logs'),
    act('Delete', 'act-delete', '/crawler/destroy', 'Delete store ' + name +
        '? Its process, change log and metadata are removed. This cannot be undone.', 'danger'));
  setPage(el('p', {}, el('a', { href: '#/stores' }, '← Stores')), title, actions,
    el('div', { class: 'grid' }, detailBox, infoBox),
    el('div', { class: 'grid' }, el('div', { class: 'card' }, rpsC), el('div', { class: 'card' }, delayC)),
    el('h2', {}, 'Checkpoints'),
    el('table', {}, el('thead', {}, el('tr', {}, ...['', 'msgId', 'checkpoint', 'timestamp', 'fileIdx', 'offset'].map((h) => el('th', {}, h)))), cps),
    el('h2', {}, 'Subscribers'),
    el('table', { id: 'subs' }, el('thead', {}, el('tr', {}, ...['id', 'from', 'since', 'position (msgId)', 'records sent', 'lag (records)'].map((h) => el('th', {}, h)))), subsBody),
    el('h2', {}, 'Update the topic'), updateForm,
    el('h2', {}, 'Log ', dl), logPre);
  const loadLog = () => guard(async () => {
    const j = await api('GET', '/crawler/log', { crawler: name, lines: 200 });
    logPre.textContent = j.log;
    const old = dl.getAttribute('href');
    if (old && old.startsWith('blob:')) URL.revokeObjectURL(old);
    dl.setAttribute('href', URL.createObjectURL(new Blob([j.log], { type: 'text/plain' })));
  });
  const load = () => guard(async () => {
    const [d, h] = await Promise.all([api('GET', '/crawler/detail', { filters: '', crawler: name }),
                                      api('GET', '/crawler/history', { crawler: name })]);
    const c = d.crawler, info = h.info || {};
    /* The store's own figures only while it runs: a stopped store's last report is stale. */
    const ss = c.status === 0 ? (info.storeStatus || {}) : {};
    topicName = info.topic || '';
    setActive(c.active);
    const word = c.status === 0 ? 'Running' : c.status === 1001 ? 'Stopped' : c.status === 1002 ? 'Starting' : 'Exception';
    detailBox.replaceChildren(el('h2', {}, 'Detail'), kv([
      ['status', el('span', { class: 'st st-' + word, id: 'status-word' }, word + ' (' + c.status + ')')],
      ['errMsg', c.errMsg], ['active', String(c.active)], ['port', c.port], ['role', c.role],
      ['datasource', c.datasource], ['location', c.location], ['userData', c.userData]]));
    infoBox.replaceChildren(el('h2', {}, 'Runtime'), kv([
      ['topic', info.topic], ['host', info.host], ['desired', info.desired],
      ['RPS', fmtNum(ss.recordsPerSec, 1)], ['delay (s)', fmtNum(ss.delay, 1)],
      ['subscribers', ss.subscribers === undefined ? '—' : ss.subscribers],
      ['log size', ss.bytes === undefined ? '—' : ss.bytes + ' bytes'],
      ['restarts', info.restarts],
      ['last crash', info.lastCrash ? info.lastCrash + ' (' + fmtMs(info.lastCrashMs) + ')' : 'none']]));
    const pair = (c.checkpoints && c.checkpoints[0]) || [];
    cps.replaceChildren(...pair.map((p, i) => el('tr', {}, el('td', {}, i ? 'latest' : 'earliest'),
      el('td', { class: 'num' }, p.msgId), el('td', {}, p.checkpoint), el('td', {}, fmtTs(p.timestamp)),
      el('td', { class: 'num' }, p.fileIdx), el('td', { class: 'num' }, p.offset))));
    subsBody.replaceChildren(...(ss.subscriberList || []).map((s) => el('tr', {},
      el('td', { class: 'num' }, s.id), el('td', {}, s.peer), el('td', {}, fmtMs(s.since)),
      el('td', { class: 'num' }, s.position), el('td', { class: 'num' }, s.sent),
      el('td', { class: 'num' }, s.lagRecords))));
    chart(rpsC, h.t, h.rps, 'RPS, last hour', 'records/s');
    chart(delayC, h.t, h.delay, 'Delay, last hour', 's');
  });
  load();
  loadLog();
  return every(load);
}

/* ---- Hosts, Alerts, Create -------------------------------------------- */

function table(id, heads, rows) {
  return el('table', { id }, el('thead', {}, el('tr', {}, ...heads.map((h) => el('th', {}, h)))),
            el('tbody', {}, ...rows));
}

function pageHosts() {
  const box = el('div', {});
  setPage(el('h1', {}, 'Hosts'), box);
  const load = () => guard(async () => {
    const j = await api('GET', '/host/list');
    const pct = (used, total) => (total > 0 ? (100 * used / total).toFixed(0) + ' %' : '—');
    box.replaceChildren(table('hosts', ['Host', 'State', 'Last heartbeat', 'CPU (load / cores)',
                                        'Memory used', 'Disk used (data dir)', 'Stores'], j.hosts.map((h) => {
      const s = h.system || {};
      return el('tr', { 'data-host': h.host }, el('td', {}, h.host),
        el('td', { class: 'st ' + (h.live ? 'st-Running' : 'st-Exception') }, h.live ? 'Up' : 'Down'),
        el('td', {}, fmtMs(h.lastHeartbeat)),
        el('td', { class: 'num' }, s.cpus ? fmtNum(s.load1, 2) + ' / ' + s.cpus : '—'),
        el('td', { class: 'num mem' }, pct(s.memTotal - s.memAvail, s.memTotal)),
        el('td', { class: 'num disk' }, pct(s.diskSize - s.diskAvail, s.diskSize)),
        el('td', { class: 'num' }, h.crawlers.length));
    })));
  });
  load();
  return every(load);
}

async function refreshAlertCount() {
  try {
    const j = await api('GET', '/alert/list');
    const b = document.getElementById('alert-count');
    b.textContent = j.alerts.length;
    b.hidden = j.alerts.length === 0;
    return j;
  } catch (e) { return null; }
}

function pageAlerts() {
  const box = el('div', {});
  setPage(el('h1', {}, 'Alerts'), el('p', { class: 'muted' },
    'Evaluated by the CM every health round; an alert clears by itself when its condition does.'), box);
  const load = () => guard(async () => {
    const j = await api('GET', '/alert/list');
    box.replaceChildren(j.alerts.length === 0 ? el('p', { id: 'no-alerts' }, 'No alerts.') :
      table('alerts', ['Alert', 'Severity', 'Subject', 'Since', 'Message'], j.alerts.map((a) =>
        el('tr', { 'data-alert': a.alert }, el('td', {}, a.alert),
          el('td', { class: a.severity === 'critical' ? 'st st-Exception' : 'st st-Starting' }, a.severity),
          el('td', { class: 'name' }, a.subject), el('td', {}, fmtMs(a.since)), el('td', {}, a.message)))));
  });
  load();
  return every(load);
}

function pageAudit() {
  const box = el('div', {});
  setPage(el('h1', {}, 'Audit log'), el('p', { class: 'muted' },
    'Every state-changing API call, newest first, as recorded in the metaDB.'), box);
  const load = () => guard(async () => {
    const j = await api('GET', '/audit/list', { limit: 200 });
    box.replaceChildren(table('audit', ['When', 'From', 'Action', 'Crawler / topic', 'Result'],
      j.audit.map((a) => el('tr', { 'data-action': a.action }, el('td', {}, fmtMs(a.at)),
        el('td', {}, a.remote), el('td', {}, a.action), el('td', { class: 'name' }, a.target),
        el('td', { class: a.result >= 400 ? 'st st-Exception' : 'st st-Running' }, a.result)))));
  });
  load();
  return every(load);
}

function field(label, name, attrs) {
  const a = Object.assign({ id: 'f-' + name, name }, attrs || {});
  return [el('label', { for: a.id }, label), el('input', a)];
}

function pageCreate() {
  const out = el('p', { class: 'muted', id: 'create-msg' });
  const topicForm = el('form', { class: 'create card', id: 'topic-form', onsubmit: (ev) => {
    ev.preventDefault();
    guard(async () => {
      const p = Object.fromEntries(new FormData(ev.target));
      const j = await api('POST', '/topic/create', p);
      out.textContent = 'Topic ' + j.topic.topic + ' created.';
      document.getElementById('f-stopic').value = j.topic.topic;
    });
  } }, ...field('Topic', 'topic', { required: true }), ...field('Source host', 'host', { required: true }),
  ...field('Port', 'port', { value: '3306' }), ...field('User', 'username', { required: true }),
  ...field('Password', 'password', { type: 'password', autocomplete: 'new-password' }),
  ...field('White list', 'whiteList', { placeholder: 'db.table,db2.*' }),
  ...field('Black list', 'blackList'), el('span', {}),
  el('button', { class: 'primary', type: 'submit' }, 'Create topic'));
  const storeForm = el('form', { class: 'create card', id: 'store-form', onsubmit: (ev) => {
    ev.preventDefault();
    guard(async () => {
      const p = Object.fromEntries(new FormData(ev.target));
      const j = await api('POST', '/crawler/start', p);
      location.hash = '#/store/' + encodeURIComponent(j.crawler.name);
    });
  } }, ...field('Topic', 'topic', { required: true, id: 'f-stopic' }),
  ...field('Checkpoint', 'checkpoint', { placeholder: 'empty = now; ::::<unix time>: for a time' }),
  ...field('User data', 'userData'), el('span', {}),
  el('button', { class: 'primary', type: 'submit' }, 'Start store'));
  setPage(el('h1', {}, 'Create'), el('h2', {}, 'Topic (a source)'), topicForm,
          el('h2', {}, 'Store'), storeForm, out);
  return null;
}

/* ---- routing ---------------------------------------------------------- */

function stopPage() { if (stop) stop(); stop = null; }

function route() {
  stopPage();
  const h = location.hash || '#/stores';
  const [, page, ...rest] = h.split('/');
  for (const a of document.querySelectorAll('header nav a'))
    a.classList.toggle('on', a.dataset.page === page || (page === 'store' && a.dataset.page === 'stores'));
  if (page === 'store') stop = pageStore(decodeURIComponent(rest.join('/')));
  else if (page === 'hosts') stop = pageHosts();
  else if (page === 'alerts') stop = pageAlerts();
  else if (page === 'create') stop = pageCreate();
  else if (page === 'audit') stop = pageAudit();
  else stop = pageStores();
}

window.addEventListener('hashchange', route);
document.getElementById('logout').addEventListener('click', async () => {
  await fetch('/console/logout', { method: 'POST', credentials: 'same-origin' });
  stopPage();
  showLogin('Logged out.');
});
route();
refreshAlertCount();
timer = setInterval(refreshAlertCount, REFRESH_MS * 2);
