import { chromium, devices } from 'playwright-core';
const base = process.argv[2] ?? 'http://127.0.0.1:3900';
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox','--disable-gpu','--disable-quic','--no-first-run','--disable-background-networking','--disable-component-update','--disable-sync'] });
const host = await browser.newContext();
async function call(context, name, form) { const r = await context.request.post(`${base}/api/${name}`, { form, headers: { Accept: 'application/json' } }); if (!r.ok()) throw new Error(name + await r.text()); return r.json(); }
await call(host, 'sign_up', { email: `probe-${Date.now()}@example.org`, display_name: 'P', password: 'benchmark password' });
const id = await call(host, 'create_session', { title: 'Probe' });
await call(host, 'add_slide', { id, kind: 'LinkAndQr' });
const link = (await call(host, 'host_session', { id })).state.ways_in.link;
for (let run = 0; run < 3; run++) {
  const context = await browser.newContext({ ...devices['Pixel 7'], extraHTTPHeaders: { 'X-Forwarded-For': `10.201.0.${run+1}` } });
  const page = await context.newPage();
  await page.addInitScript(() => {
    window.__t = {};
    const is = WebAssembly.instantiateStreaming;
    WebAssembly.instantiateStreaming = async (...a) => { window.__t.instStart = performance.now(); const r = await is(...a); window.__t.instEnd = performance.now(); return r; };
    const WS = window.WebSocket; window.WebSocket = function (...a) { window.__t.ws = performance.now(); return new WS(...a); }; window.WebSocket.prototype = WS.prototype; Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
    let h = false; Object.defineProperty(window, '__rucheHydrated', { get() { return h; }, set(v) { h = v; window.__t.flag = performance.now(); } });
    const ric = window.requestIdleCallback; window.requestIdleCallback = (c) => { window.__t.ricAsk = performance.now(); return ric(() => { window.__t.ricRun = performance.now(); c(); }); };
    const i = WebAssembly.instantiate;
    WebAssembly.instantiate = async (...a) => { window.__t.inst2Start ??= performance.now(); const r = await i(...a); window.__t.inst2End = performance.now(); return r; };
  });
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 150, downloadThroughput: 1.6e6 / 8, uploadThroughput: 750e3 / 8 });
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  await page.goto(link);
  const hydrated = await (await page.waitForFunction(() => window.__rucheHydrated === true && performance.now(), null, { timeout: 120000, polling: 'raf' })).jsonValue();
  const r = await page.evaluate(() => ({ t: window.__t, res: performance.getEntriesByType('resource').map(e => [e.name.split('/').pop().slice(0, 30), Math.round(e.startTime), Math.round(e.responseEnd)]), nav: Math.round(performance.getEntriesByType('navigation')[0].responseEnd), dcl: Math.round(performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd) }));
  console.log(JSON.stringify({ hydrated: Math.round(hydrated), ...r }));
  await context.close();
}
await browser.close();
