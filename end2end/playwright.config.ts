import { defineConfig, devices } from '@playwright/test';

// Debian's Chromium: Playwright never downloads a browser here. The extra flags keep Chromium
// from calling out to the network, which these machines refuse.
const launchOptions = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
};

const desktop = { ...devices['Desktop Chrome'], launchOptions };
const phone = { ...devices['Pixel 7'], launchOptions };

export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 2,
  reporter: [['list']],
  use: {
    baseURL: process.env.RUCHE_BASE_URL ?? 'http://127.0.0.1:3000',
    trace: 'retain-on-failure',
  },
  projects: [
    { name: 'desktop', use: desktop },
    { name: 'phone', use: phone },
    // Plain forms and participant pages must work before (or without) the wasm.
    { name: 'desktop-nojs', use: { ...desktop, javaScriptEnabled: false }, grep: /@nojs/ },
    { name: 'phone-nojs', use: { ...phone, javaScriptEnabled: false }, grep: /@nojs/ },
  ],
});
