// Measures what a participant's phone downloads and waits for, on the throttled profile of
// Lighthouse's "slow 4G" (150 ms round trip, 1.6 Mbit/s down, 750 kbit/s up, CPU slowed 4x):
// for a session's public link and for the home page (the join banner), on an empty cache,
// - bytes transferred per kind (as sent on the wire: brotli where the browser takes it);
// - the first contentful paint (the session title or the banner: server-rendered) and the
//   moment the page is hydrated (live updates, forms), median and p90;
// and for the host page, opened by its owner on the same profile; then a second visit from the
// same phone to another session's link: what it transfers again.
// Runs Debian's Chromium against a running Ruche.
//
//   node end2end/bench/participant-load.mjs [base URL] [runs]
//
// BENCH_THROTTLE=0 measures on bare loopback instead. scripts/bench-participant.sh builds a
// release server and runs this against it.
import { chromium, devices } from 'playwright-core';

const base = process.argv[2] ?? 'http://127.0.0.1:3000';
const runs = Number(process.argv[3] ?? 5);
const throttled = process.env.BENCH_THROTTLE !== '0';

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
async function session(title) {
  const id = await call(host, 'create_session', { title });
  await call(host, 'add_slide', { id, kind: 'LinkAndQr' });
  return { id, link: (await call(host, 'host_session', { id })).state.ways_in.link };
}
const benchSession = await session('Benchmark session');
const link = benchSession.link;
const otherLink = (await session('Another session')).link;
const hostLogin = await host.storageState();

function kindOf(url) {
  return /\.wasm$/.test(url) ? 'wasm' : /\.js$/.test(url) ? 'js' : /\.css$/.test(url) ? 'css'
    : /\.(svg|png)$/.test(url) ? 'images' : 'html';
}

/// Opens `url` in `page` and returns the bytes per kind, the first contentful paint and the
/// hydration time (ms from navigation start).
async function visit(page, cdp, url) {
  const kinds = new Map();
  const urls = new Map();
  const onResponse = (e) => urls.set(e.requestId, e.response.url);
  const onFinished = (e) => {
    const kind = kindOf(urls.get(e.requestId) ?? '');
    kinds.set(kind, (kinds.get(kind) ?? 0) + e.encodedDataLength);
  };
  cdp.on('Network.responseReceived', onResponse);
  cdp.on('Network.loadingFinished', onFinished);
  await page.goto(url);
  const hydrated = await (await page.waitForFunction(
    () => window.__rucheHydrated === true && performance.now(), null, { timeout: 120000, polling: 'raf' })).jsonValue();
  const paint = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN);
  await page.waitForLoadState('networkidle');
  cdp.off('Network.responseReceived', onResponse);
  cdp.off('Network.loadingFinished', onFinished);
  return { kinds, paint, hydrated };
}

async function phone(run, storageState) {
  // A fresh phone each run: empty cache, new participant, no connection reuse.
  const context = await browser.newContext({
    ...devices['Pixel 7'], storageState, extraHTTPHeaders: { 'X-Forwarded-For': `10.200.${run >> 8}.${run & 255}` },
  });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  if (throttled) {
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false, latency: 150, downloadThroughput: 1.6e6 / 8, uploadThroughput: 750e3 / 8,
    });
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  }
  return { context, page, cdp };
}

const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
const sum = (kinds, list) => list.reduce((a, k) => a + (kinds.get(k) ?? 0), 0);
const CODE = ['html', 'css', 'js', 'wasm'];
function spread(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return `median ${Math.round(at(0.5))} ms, p90 ${Math.round(at(0.9))} ms`;
}

console.log(`Pixel 7 emulation, ${throttled ? 'slow 4G (150 ms RTT, 1.6 Mbit/s down, CPU 4x slower)' : 'bare loopback'}, empty cache, ${runs} runs`);
let next = 1;
// The host page too, logged in as its owner on the same profile: it may load more than a
// participant's, but must not load slower than it did.
const pages = [
  ['Participant page, from the public link', link],
  ['Home page (join banner)', `${base}/`],
  ['Host page (the owner, logged in)', `${base}/s/${benchSession.id}`, hostLogin],
];
for (const [name, url, login] of pages) {
  const paints = [];
  const hydrations = [];
  let first;
  let second = null;
  for (let run = 0; run < runs; run++) {
    const { context, page, cdp } = await phone(next++, login);
    const seen = await visit(page, cdp, url);
    paints.push(seen.paint);
    hydrations.push(seen.hydrated);
    first = seen.kinds;
    // The same phone, another session: only what the cache does not hold goes again.
    if (run === 0 && !login) second = (await visit(page, cdp, otherLink)).kinds;
    await context.close();
  }
  console.log(name);
  for (const kind of ['html', 'css', 'js', 'wasm', 'images']) console.log(`  ${kind.padEnd(7)} ${kb(first.get(kind) ?? 0)}`);
  console.log(`  HTML+CSS+JS+WASM: ${kb(sum(first, CODE))} transferred; all requests: ${kb(sum(first, [...CODE, 'images']))}`);
  console.log(`  first contentful paint (${name.startsWith('Home') ? 'the banner' : 'the session title'}): ${spread(paints)}`);
  console.log(`  hydrated: ${spread(hydrations)}`);
  if (second) console.log(`  then another session's link on the same phone: CSS+JS+WASM ${kb(sum(second, ['css', 'js', 'wasm']))}, all requests ${kb(sum(second, [...CODE, 'images']))}`);
}
await browser.close();
