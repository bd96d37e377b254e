import { expect, test } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { hydrated, PASSWORD, uniqueEmail } from './helpers';
import { caller, freePort, OwnServer } from './server';

// Ruche behind Debian's nginx, configured as the README gives it (only its `listen` and upstream
// port changed), on loopback: what a self-hoster copies is what is tested.
test.describe.configure({ timeout: 120_000 });

const NGINX = '/usr/sbin/nginx';

/** The README's nginx configuration, listening on `port` without TLS, passing to Ruche on `upstream`. */
function readmeConfiguration(port: number, upstream: number): string {
  const readme = readFileSync(resolve(__dirname, '..', '..', 'README.md'), 'utf8');
  const block = readme.match(/```nginx\n([\s\S]*?)```/)?.[1];
  if (!block) throw new Error('README.md has no nginx block');
  if (!block.includes('listen 443 ssl;') || !block.includes('127.0.0.1:3000')) {
    throw new Error('the README nginx block changed shape: update proxy.spec.ts with it');
  }
  return block.replace('listen 443 ssl;', `listen 127.0.0.1:${port};`).replaceAll('127.0.0.1:3000', `127.0.0.1:${upstream}`);
}

class Nginx {
  private constructor(readonly dir: string, readonly child: ChildProcess) {}

  static async start(port: number, upstream: number): Promise<Nginx> {
    const dir = mkdtempSync(join(tmpdir(), 'ruche-nginx-'));
    const conf = join(dir, 'nginx.conf');
    writeFileSync(conf, `
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path ${dir}/body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
${readmeConfiguration(port, upstream)}
}
`);
    const child = spawn(NGINX, ['-p', dir, '-c', conf, '-g', 'daemon off;'], { stdio: 'inherit' });
    const nginx = new Nginx(dir, child);
    for (let i = 0; i < 100; i++) {
      if ((await request('127.0.0.1', `http://127.0.0.1:${port}`, 'GET', '/healthz').catch(() => 0)) === 200) return nginx;
      await new Promise((r) => setTimeout(r, 100));
    }
    await nginx.stop();
    throw new Error('nginx did not come up');
  }

  async stop() {
    if (this.child.exitCode === null) {
      const exited = new Promise((done) => this.child.once('exit', done));
      this.child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A request from the loopback address `from` (any 127.x.y.z is this machine's), as a client
 * elsewhere would make it: nginx sees that address. Resolves to the status. */
function request(from: string, base: string, method: string, path: string, form?: Record<string, string>,
  headers: Record<string, string> = {}): Promise<number> {
  return new Promise((done, fail) => {
    const url = new URL(path, base);
    const body = form ? new URLSearchParams(form).toString() : '';
    const req = http.request({
      host: url.hostname, port: url.port, path: url.pathname + url.search, method, localAddress: from, agent: false,
      headers: {
        Accept: 'application/json', Origin: base, 'Content-Type': 'application/x-www-form-urlencoded',
        'Content-Length': Buffer.byteLength(body), ...headers,
      },
    }, (res) => { res.resume(); res.on('end', () => done(res.statusCode ?? 0)); });
    req.on('error', fail);
    req.end(body);
  });
}

test('behind nginx: join by code and link, live updates, limits per client address', async ({ browser }) => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = await OwnServer.start('ruche-proxy-', { PUBLIC_URL: base, TRUSTED_PROXIES: '127.0.0.1' });
  const nginx = await Nginx.start(port, server.port);
  try {
    // The host, through the proxy.
    const { api, call } = await caller(base, '10.1.1.1');
    await call('sign_up', { email: uniqueEmail('host'), display_name: 'Host', password: PASSWORD });
    const id: string = await call('create_session', { title: 'Behind nginx' });
    const ways = (await call('host_session', { id })).state.ways_in;
    expect(ways.link.startsWith(`${base}/j/`)).toBe(true);

    const context = await browser.newContext({ ...test.info().project.use, baseURL: base });
    const byCode = await context.newPage();
    await byCode.goto('/');
    await hydrated(byCode);
    await byCode.getByLabel('Session code').fill(ways.code);
    await byCode.getByRole('button', { name: 'Join' }).click();
    await expect(byCode).toHaveURL(new RegExp(`/p/${id}$`));
    await expect(byCode.getByRole('heading', { name: 'Behind nginx' })).toBeVisible();
    await hydrated(byCode);

    const other = await browser.newContext({ ...test.info().project.use, baseURL: base });
    const byLink = await other.newPage();
    await byLink.goto(ways.link);
    await expect(byLink).toHaveURL(new RegExp(`/p/${id}$`));
    await hydrated(byLink);

    // A change reaches both phones over their WebSockets, through the proxy.
    await call('rename_session', { id, title: 'Renamed behind nginx' });
    for (const page of [byCode, byLink]) {
      await expect(page.getByRole('heading', { name: 'Renamed behind nginx' })).toBeVisible();
    }
    await call('set_session_open', { id, open: 'false' });
    await expect(byLink.getByRole('heading', { name: 'This session is closed.' })).toBeVisible();
    await call('set_session_open', { id, open: 'true' });

    // The per-address budget of failed lookups counts the client's address, which nginx
    // forwards, not the proxy's: one client spends it, another still gets in.
    const wrong = ways.code.replace(' ', '') === '999999' ? '999998' : '999999';
    const statuses: number[] = [];
    for (let i = 0; i < 260 && !statuses.includes(429); i++) {
      statuses.push(await request('127.0.0.5', base, 'POST', '/api/join_by_code', { code: wrong }));
    }
    expect(statuses.filter((s) => s === 404).length).toBeGreaterThanOrEqual(200);
    expect(statuses.at(-1)).toBe(429);
    // What the client says it forwards is not believed: nginx appends the address it saw.
    expect(await request('127.0.0.5', base, 'POST', '/api/join_by_code', { code: wrong },
      { 'X-Forwarded-For': '10.20.30.40' })).toBe(429);
    expect(await request('127.0.0.6', base, 'POST', '/api/join_by_code', { code: wrong })).toBe(404);
    expect(await request('127.0.0.6', base, 'POST', '/api/join_by_code', { code: ways.code })).toBe(200);
    await context.close();
    await other.close();
    await api.dispose();
  } finally {
    await nginx.stop();
    await server.discard();
  }
});
