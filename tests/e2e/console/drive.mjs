// drive.mjs - a line-oriented driver of Debian's chromium for
// tests/e2e/test_console.py (puppeteer-core; no browser download).
// argv: <user-data-dir>. Prints {"pid":N} once the browser runs, then reads
// one JSON command per line on stdin and answers one JSON line each:
// {"ok":true,"value":...} or {"ok":false,"error":"..."}.
import puppeteer from 'puppeteer-core';
import readline from 'node:readline';

const userDataDir = process.argv[2];
const browser = await puppeteer.launch({
  executablePath: process.env.OX_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  userDataDir,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--disable-dev-shm-usage'],
  defaultViewport: { width: 1400, height: 900 },
});
const page = await browser.newPage();
const consoleErrors = [];
page.on('pageerror', (e) => consoleErrors.push(String(e)));
page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
page.on('dialog', (d) => { consoleErrors.push('unexpected dialog: ' + d.message()); d.dismiss(); });
process.stdout.write(JSON.stringify({ pid: browser.process().pid }) + '\n');

async function waitFor(selector, text, timeout) {
  await page.waitForFunction((sel, t) => {
    const e = document.querySelector(sel);
    return e && (t === null || e.textContent.includes(t));
  }, { timeout: timeout || 20000, polling: 100 }, selector, text === undefined ? null : text);
}

const ops = {
  goto: async (c) => { const r = await page.goto(c.url, { waitUntil: 'load' }); return r ? r.status() : null; },
  wait: async (c) => { await waitFor(c.selector, c.text, c.timeout); return true; },
  click: async (c) => { await waitFor(c.selector, undefined, c.timeout); await page.click(c.selector); return true; },
  type: async (c) => { await page.type(c.selector, c.text); return true; },
  eval: async (c) => page.evaluate(c.js),
  screenshot: async (c) => { await page.screenshot({ path: c.path, fullPage: !!c.full }); return c.path; },
  cookies: async () => page.cookies(),
  errors: async () => consoleErrors.splice(0),
  paint: async () => page.evaluate(() => {
    const e = performance.getEntriesByType('paint').map((p) => [p.name, p.startTime]);
    return Object.fromEntries(e.concat([['stores-rendered', window.__oxFirstStores || null]]));
  }),
};

const rl = readline.createInterface({ input: process.stdin });
for await (const line of rl) {
  if (!line.trim()) continue;
  const c = JSON.parse(line);
  if (c.op === 'close') break;
  try {
    const value = await ops[c.op](c);
    process.stdout.write(JSON.stringify({ ok: true, value }) + '\n');
  } catch (e) {
    process.stdout.write(JSON.stringify({ ok: false, error: String(e && e.stack || e) }) + '\n');
  }
}
await browser.close();
