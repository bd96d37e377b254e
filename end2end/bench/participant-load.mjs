// Measures what a participant's phone downloads and waits for when opening a session's public
// link: transfer size (compressed, as sent on the wire) per kind, and the time from navigation
// start to a hydrated participant view. Runs Debian's Chromium against a running Ruche.
//
//   node end2end/bench/participant-load.mjs [base URL] [runs]
//
// scripts/bench-participant.sh builds a release server and runs this against it.
import { chromium, devices } from 'playwright-core';

const base = process.argv[2] ?? 'http://127.0.0.1:3000';
const runs = Number(process.argv[3] ?? 10);

async function call(context, name, form) {
  const response = await context.request.post(`${base}/api/${name}`, { form, headers: { Accept: 'application/json' } });
  if (!response.ok()) throw new Error(`${name}: ${response.status()} ${await response.text()}`);
  return response.json();
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const host = await browser.newContext();
await call(host, 'sign_up', { email: `bench-${Date.now()}@example.org`, display_name: 'Bench', password: 'benchmark password' });
const id = await call(host, 'create_session', { title: 'Benchmark session' });
await call(host, 'add_slide', { id, kind: 'LinkAndQr' });
const link = (await call(host, 'host_session', { id })).state.ways_in.link;

const times = [];
let sizes;
for (let run = 0; run < runs; run++) {
  // A fresh phone each run: empty cache, new participant, no connection reuse.
  const context = await browser.newContext({ ...devices['Pixel 7'], extraHTTPHeaders: { 'X-Forwarded-For': `10.200.0.${run + 1}` } });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  const kinds = new Map();
  const urls = new Map();
  cdp.on('Network.responseReceived', (e) => urls.set(e.requestId, e.response.url));
  cdp.on('Network.loadingFinished', (e) => {
    const url = urls.get(e.requestId) ?? '';
    const kind = /\.wasm$/.test(url) ? 'wasm' : /\.js$/.test(url) ? 'js' : /\.css$/.test(url) ? 'css'
      : /\.(svg|png)$/.test(url) ? 'images' : 'html';
    kinds.set(kind, (kinds.get(kind) ?? 0) + e.encodedDataLength);
  });
  const start = Date.now();
  await page.goto(link);
  await page.waitForFunction(() => window.__rucheHydrated === true, null, { timeout: 30000 });
  times.push(Date.now() - start);
  await page.waitForLoadState('networkidle');
  sizes = kinds;
  await context.close();
}
await browser.close();

const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
const total = [...sizes.values()].reduce((a, b) => a + b, 0);
const code = ['html', 'css', 'js', 'wasm'].reduce((a, k) => a + (sizes.get(k) ?? 0), 0);
console.log('Participant page, opened from the public link (Pixel 7 emulation, loopback, empty cache)');
for (const kind of ['html', 'css', 'js', 'wasm', 'images']) console.log(`  ${kind.padEnd(7)} ${kb(sizes.get(kind) ?? 0)} transferred`);
console.log(`  HTML+CSS+JS+WASM: ${kb(code)} transferred (all requests, with the QR image: ${kb(total)})`);
times.sort((a, b) => a - b);
const pct = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))];
console.log(`  link opened -> hydrated participant view: median ${pct(0.5)} ms, p90 ${pct(0.9)} ms, min ${times[0]} ms, max ${times[times.length - 1]} ms over ${runs} runs`);
