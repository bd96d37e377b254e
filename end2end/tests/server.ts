import { expect, request, type APIRequestContext } from '@playwright/test';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// A Ruche server of a spec's own, for specs that stop or kill it: the suite's server must stay
// up for the other specs. It runs the binary cargo-leptos just built, on a scratch SQLite file
// that outlives the process, so that it can be started again on the same data.
const root = resolve(__dirname, '..', '..');
const targetDir = process.env.CARGO_TARGET_DIR ?? join(root, 'target');

function serverBinary(): string {
  for (const profile of ['release', 'debug']) {
    const path = join(targetDir, profile, 'server');
    if (existsSync(path)) return path;
  }
  throw new Error(`no server binary under ${targetDir}: build with cargo leptos first`);
}

export async function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as any).port;
      server.close(() => done(port));
    });
  });
}

export class OwnServer {
  readonly base: string;
  readonly dataDir: string;
  readonly database: string;
  private child: ChildProcess | null = null;

  private constructor(readonly port: number, prefix: string, readonly env: Record<string, string>) {
    this.base = `http://127.0.0.1:${port}`;
    this.dataDir = mkdtempSync(join(tmpdir(), prefix));
    this.database = join(this.dataDir, 'ruche.db');
  }

  /** A server on a free port and a fresh SQLite file, up and answering; `env` adds to or
   * overrides its settings (`SIGNUP`, `SMTP_URL`…). */
  static async start(prefix = 'ruche-own-', env: Record<string, string> = {}): Promise<OwnServer> {
    const server = new OwnServer(await freePort(), prefix, env);
    await server.restart();
    return server;
  }

  /** Starts the server again on the same port and file; resolves once it answers. */
  async restart() {
    if (this.child) throw new Error('the server is already running');
    const child = spawn(serverBinary(), [], { cwd: root, stdio: 'ignore', env: this.settings() });
    this.child = child;
    const exited = new Promise<never>((_, fail) =>
      child.once('exit', (code, signal) => fail(new Error(`the server exited at start-up (${code ?? signal})`))));
    const up = (async () => {
      for (let i = 0; i < 100; i++) {
        const api = await request.newContext();
        const ok = await api.get(`${this.base}/favicon.svg`).then((r) => r.ok(), () => false);
        await api.dispose();
        if (ok) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('the server did not come up');
    })();
    try {
      await Promise.race([up, exited]);
    } catch (error) {
      await this.stop('SIGKILL');
      throw error;
    }
  }

  /** The environment the server runs with, which its commands (`server admin add`) share. */
  settings(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      DATABASE_URL: `sqlite://${this.database}?mode=rwc`,
      PUBLIC_URL: this.base,
      LEPTOS_SITE_ADDR: `127.0.0.1:${this.port}`,
      LEPTOS_SITE_ROOT: resolve(root, process.env.LEPTOS_SITE_ROOT ?? 'target/site'),
      LEPTOS_OUTPUT_NAME: 'ruche',
      TRUSTED_PROXIES: '127.0.0.1',
      SMTP_URL: '',
      ...this.env,
    };
  }

  /** Runs `server <args>` (a command, not the server) on this server's data; returns its output. */
  command(args: string[]): string {
    return execFileSync(serverBinary(), args, { cwd: root, env: { ...this.settings(), RUST_LOG: 'warn' }, encoding: 'utf8' });
  }

  /** Stops the server and deletes its data. */
  async discard() {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** SIGTERM: a graceful stop. SIGKILL: the process dies between any two instructions. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') {
    const child = this.child;
    if (!child) return;
    this.child = null;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((done) => child.once('exit', done));
    child.kill(signal);
    await exited;
  }
}

/** A client of the server functions, as a hydrated page calls them (form-encoded, JSON back),
 * keeping its login cookie, from a client address of its own (the server trusts 127.0.0.1 as a
 * proxy). */
export interface Caller {
  api: APIRequestContext;
  /** Calls `/api/<name>`; a refusal fails the test. */
  call: (name: string, form?: Record<string, string>) => Promise<any>;
}

export async function caller(base: string, clientIp: string): Promise<Caller> {
  const api = await request.newContext({
    baseURL: base,
    extraHTTPHeaders: { 'X-Forwarded-For': clientIp, Accept: 'application/json', Origin: base },
  });
  const call = async (name: string, form: Record<string, string> = {}) => {
    const response = await api.post(`/api/${name}`, { form });
    expect(response.ok(), `${name}: ${response.status()} ${await response.text()}`).toBeTruthy();
    return response.json();
  };
  return { api, call };
}
