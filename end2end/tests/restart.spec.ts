import { test, expect, request } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { hydrated, PASSWORD, uniqueEmail } from './helpers';

// A server of its own, stopped and started again under a tab: the suite's server must stay up
// for the other specs. It runs the binary cargo-leptos just built, on a scratch SQLite file.
const root = resolve(__dirname, '..', '..');
const targetDir = process.env.CARGO_TARGET_DIR ?? join(root, 'target');

function serverBinary(): string {
  for (const profile of ['release', 'debug']) {
    const path = join(targetDir, profile, 'server');
    if (existsSync(path)) return path;
  }
  throw new Error(`no server binary under ${targetDir}: build with cargo leptos first`);
}

async function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as any).port;
      server.close(() => done(port));
    });
  });
}

async function startServer(port: number, data: string): Promise<ChildProcess> {
  const child = spawn(serverBinary(), [], {
    cwd: root,
    stdio: 'ignore',
    env: {
      ...process.env,
      DATABASE_URL: `sqlite://${data}/ruche.db?mode=rwc`,
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: 'target/site',
      LEPTOS_OUTPUT_NAME: 'ruche',
      TRUSTED_PROXIES: '127.0.0.1',
      SMTP_URL: '',
    },
  });
  for (let i = 0; i < 100; i++) {
    const api = await request.newContext();
    const up = await api.get(`http://127.0.0.1:${port}/favicon.svg`).then((r) => r.ok(), () => false);
    await api.dispose();
    if (up) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the restarted server did not come up');
}

async function stopServer(child: ChildProcess) {
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  await exited;
}

test('a participant tab reconnects after a server restart and catches up', async ({ browser }) => {
  test.setTimeout(90_000);
  const port = await freePort();
  const data = mkdtempSync(join(tmpdir(), 'ruche-restart-'));
  const base = `http://127.0.0.1:${port}`;
  let server = await startServer(port, data);
  try {
    const api = await request.newContext({ baseURL: base });
    const call = async (name: string, form: Record<string, string> = {}) => {
      const response = await api.post(`/api/${name}`, { form });
      expect(response.ok(), `${name}: ${response.status()}`).toBeTruthy();
      return response.json();
    };
    await call('sign_up', { email: uniqueEmail('host'), display_name: 'Host', password: PASSWORD });
    const id: string = await call('create_session', { title: 'Through a restart' });
    const code: string = (await call('host_session', { id })).state.ways_in.code;

    const context = await browser.newContext({ ...test.info().project.use, baseURL: base });
    const page = await context.newPage();
    await page.goto(`/join?code=${encodeURIComponent(code)}`);
    await hydrated(page);
    await page.evaluate(() => { (window as any).__rucheNoReload = true; });
    await expect(page.getByRole('heading', { name: 'Through a restart' })).toBeVisible();

    await stopServer(server);
    await expect(page.getByText('Connection lost. Reconnecting…')).toBeVisible();
    server = await startServer(port, data);
    // The login survives the restart (it is stored), so the host closes the session.
    await call('set_session_open', { id, open: 'false' });
    await expect(page.getByRole('heading', { name: 'This session is closed.' })).toBeVisible({ timeout: 20_000 });
    await expect(page.getByText('Connection lost. Reconnecting…')).toHaveCount(0);
    expect(await page.evaluate(() => (window as any).__rucheNoReload === true)).toBe(true);
    await context.close();
    await api.dispose();
  } finally {
    await stopServer(server);
    rmSync(data, { recursive: true, force: true });
  }
});
