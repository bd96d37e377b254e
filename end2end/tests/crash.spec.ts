import { test, expect, request } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { Agent, request as httpRequest } from 'node:http';
import { fakeClientIp, hydrated, PASSWORD, uniqueEmail } from './helpers';
import { caller, OwnServer } from './server';

// Crash safety (issue 10, item 7): the server is killed with SIGKILL while several clients
// write, and started again on the same SQLite file. Every change it acknowledged (a 2xx answer)
// must be there, the file must pass SQLite's integrity check, and an open host tab must come back
// in sync without a reload.

const WRITERS = 8;
// Each writer keeps this many calls going at once, each lane on sessions of its own.
const LANES = 4;
const WRITING_MS = 2_000;
// Each lane creates a bounded number of sessions and slides, then only edits them: the test is
// about durability, so it stays clear of any per-account cap on sessions or slides.
const SESSIONS_PER_LANE = 2;
const SLIDES_PER_SESSION = 3;
// And it stays within an account's budget of changes (CHANGES_PER_ACCOUNT in
// app/src/rules/limits.rs: a burst of 300), so that a refusal is still a fault of the test
// however fast the machine: past it, a writer's lanes stop, and the joins bring the kill.
const CHANGES_PER_WRITER = 300;
// Phones joining one session by its code meanwhile, this many at once: joins are written in
// groups (app/src/server/joins.rs), and one acknowledged must survive the kill like any write.
const JOINING_AT_ONCE = 16;

/** A slide's title as last acknowledged, and the one of a write the kill cut off, if any: after
 * the restart the slide may show either, nothing else. */
interface SlideWrites { acked: string; pending?: string; updates: number }

/** The kill, as the writers see it. The server answers a write in about a millisecond and the
 * writers (one Node process) are the slower side, so a kill at a random moment would mostly find
 * it idle; instead it comes as soon as a call has left a writer, while the server has that call
 * and the others in flight before it. */
interface Crash {
  killing: boolean;
  /** Set once the writing time is over: the next call sent fires the kill. */
  armed: (() => void) | null;
}

/** A writer's HTTP client, on kept-alive connections: node:http is cheap per call, so the
 * server gets writes as fast as it takes them. */
class WriterClient {
  cookie = '';
  /** The visitor cookie a join gave this client. */
  visitor = '';
  private agent = new Agent({ keepAlive: true, maxSockets: LANES });
  constructor(readonly base: string, readonly clientIp: string) {}

  /** Resolves with the whole answer (only a whole answer acknowledges); rejects if the
   * connection dies first. `sent` runs once the request has been handed to the socket. */
  post(name: string, form: Record<string, string>, sent: () => void): Promise<{ status: number; body: string }> {
    const body = new URLSearchParams(form).toString();
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/x-www-form-urlencoded',
      'Content-Length': Buffer.byteLength(body),
      Accept: 'application/json',
      'X-Forwarded-For': this.clientIp,
    };
    if (this.cookie) headers.Cookie = this.cookie;
    return new Promise((resolve, reject) => {
      const req = httpRequest(`${this.base}/api/${name}`, { method: 'POST', headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        let whole = false;
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          whole = true;
          for (const cookie of res.headers['set-cookie'] ?? []) {
            const pair = cookie.split(';')[0];
            if (pair.startsWith('ruche_login=')) this.cookie = pair;
            if (pair.startsWith('ruche_visitor=')) this.visitor = pair;
          }
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() });
        });
        res.on('close', () => { if (!whole) reject(new Error(`${name}: the answer was cut off`)); });
      });
      req.on('error', reject);
      req.on('finish', sent);
      req.end(body);
    });
  }

  close() {
    this.agent.destroy();
  }
}

interface Writer {
  index: number;
  client: WriterClient;
  acked: number;
  /** Changes sent, acknowledged or not (sign-ups aside). */
  sent: number;
  cutOff: number;
  sessions: Map<string, { title: string; slides: Map<string, SlideWrites> }>;
}

/** Thrown by a call the kill cut off, and by one not sent (after the kill, or past the writer's
 * budget of changes). */
class Gone extends Error {}

/** Calls a server function for a writer and counts what the server acknowledged; a call the
 * kill cut off throws `Gone`, and so does any call after it, or past the writer's budget of
 * changes (never sent). */
async function attempt(writer: Writer, crash: Crash, name: string, form: Record<string, string>) {
  if (crash.killing) throw new Gone('after the kill');
  if (name !== 'sign_up') {
    if (writer.sent >= CHANGES_PER_WRITER) throw new Gone('the account\'s budget of changes is spent');
    writer.sent += 1;
  }
  let response: { status: number; body: string };
  try {
    response = await writer.client.post(name, form, () => crash.armed?.());
  } catch (error) {
    if (!crash.killing) throw error;
    writer.cutOff += 1;
    throw new Gone(String(error));
  }
  // Any answer at all means the server was up: a refusal is a fault of the test, not the kill.
  expect(response.status, `${name}: ${response.status} ${response.body}`).toBe(200);
  writer.acked += 1;
  return JSON.parse(response.body);
}

/** One lane of a writer, until the kill: sessions and slides first, then edits of every slide
 * of the lane, round after round. */
async function write(writer: Writer, lane: number, crash: Crash) {
  const call = (name: string, form: Record<string, string>) => attempt(writer, crash, name, form);
  const sessions = new Map<string, { title: string; slides: Map<string, SlideWrites> }>();
  try {
    let created = 0;
    let version = 0;
    while (!crash.killing) {
      if (created < SESSIONS_PER_LANE) {
        const title = `Writer ${writer.index} lane ${lane} session ${created}`;
        const id: string = await call('create_session', { title });
        created += 1;
        const slides = new Map<string, SlideWrites>();
        sessions.set(id, { title, slides });
        writer.sessions.set(id, { title, slides });
        for (let k = 0; k < SLIDES_PER_SESSION && !crash.killing; k++) {
          const slide: string = await call('add_slide', { id, kind: 'Text' });
          slides.set(slide, { acked: 'New slide', updates: 0 });
        }
      }
      for (const [id, session] of sessions) {
        for (const [slide, writes] of session.slides) {
          if (crash.killing) return;
          const title = `Writer ${writer.index} lane ${lane} edit ${version++}`;
          writes.pending = title;
          await call('update_slide', { id, slide, title, body: `Body of ${title}` });
          writes.acked = title;
          writes.pending = undefined;
          writes.updates += 1;
        }
      }
    }
  } catch (error) {
    if (!(error instanceof Gone)) throw error;
  }
}

/** A phone joining by code, a client of its own: resolves with its visitor cookie once the join
 * is acknowledged (the whole answer), or with null if the kill cut it off. */
async function joinByCode(base: string, code: string, clientIp: string, crash: Crash): Promise<string | null> {
  const phone = new WriterClient(base, clientIp);
  let response: { status: number; body: string };
  try {
    response = await phone.post('join_by_code', { code }, () => crash.armed?.());
  } catch (error) {
    if (crash.killing) return null;
    throw error;
  } finally {
    phone.close();
  }
  // Any answer at all means the server was up: a refusal is a fault of the test, not the kill.
  expect(response.status, `join_by_code: ${response.status} ${response.body}`).toBe(200);
  expect(phone.visitor, 'the visitor cookie of a join').not.toBe('');
  return phone.visitor;
}

/** One of the `JOINING_AT_ONCE` phones' lanes: joins `code` as a new phone after another until
 * the kill; the visitor cookies of the joins acknowledged go into `joined`. */
async function join(base: string, code: string, crash: Crash, joined: string[]) {
  const clientIp = fakeClientIp();
  while (!crash.killing) {
    const visitor = await joinByCode(base, code, clientIp, crash);
    if (visitor) joined.push(visitor);
  }
}

/** SQLite's own checks, by python3's sqlite3 module (present wherever Python is). */
function sqliteChecks(database: string): { integrity: string; foreignKeyViolations: number } {
  const script = [
    'import json, sqlite3, sys',
    'db = sqlite3.connect(sys.argv[1])',
    'integrity = "; ".join(row[0] for row in db.execute("PRAGMA integrity_check"))',
    'violations = len(db.execute("PRAGMA foreign_key_check").fetchall())',
    'print(json.dumps({"integrity": integrity, "foreignKeyViolations": violations}))',
  ].join('\n');
  return JSON.parse(execFileSync('python3', ['-c', script, database]).toString());
}

test('killed with SIGKILL while 8 clients write, the server keeps every acknowledged change and tabs catch up', async ({ browser }) => {
  test.setTimeout(120_000);
  const server = await OwnServer.start('ruche-crash-');
  try {
    // A host tab open through the crash, on a session of its own.
    const host = await caller(server.base, fakeClientIp());
    await host.call('sign_up', { email: uniqueEmail('host'), display_name: 'Host', password: PASSWORD });
    const id: string = await host.call('create_session', { title: 'Watched through a crash' });
    const slide: string = await host.call('add_slide', { id, kind: 'Text' });
    const context = await browser.newContext({
      ...test.info().project.use,
      baseURL: server.base,
      storageState: await host.api.storageState(),
    });
    const page = await context.newPage();
    await page.goto(`/s/${id}`);
    await hydrated(page);
    await page.evaluate(() => { (window as any).__rucheNoReload = true; });
    await expect(page.getByRole('listitem', { name: 'Slide 1: New slide' })).toBeVisible();

    // The writers sign up first (their accounts are acknowledged changes too), so that the whole
    // window goes to sessions and slides rather than to password hashing.
    const crash: Crash = { killing: false, armed: null };
    const writers: Writer[] = [];
    for (let index = 0; index < WRITERS; index++) {
      writers.push({ index, client: new WriterClient(server.base, fakeClientIp()), acked: 0, sent: 0, cutOff: 0, sessions: new Map() });
    }
    await Promise.all(writers.map((writer) => attempt(writer, crash, 'sign_up',
      { email: uniqueEmail(`writer${writer.index}`), display_name: `Writer ${writer.index}`, password: PASSWORD })));
    const code: string = (await host.call('host_session', { id })).state.ways_in.code;
    const joined: string[] = [];
    const writing = Promise.all([
      ...writers.flatMap((writer) => Array.from({ length: LANES }, (_, lane) => write(writer, lane, crash))),
      ...Array.from({ length: JOINING_AT_ONCE }, () => join(server.base, code, crash, joined)),
    ]);
    // A writer failing before the kill fails the test at once.
    await Promise.race([writing, new Promise((resolve) => setTimeout(resolve, WRITING_MS))]);
    const killed = new Promise<void>((resolve) => {
      crash.armed = () => {
        crash.armed = null;
        crash.killing = true;
        resolve(server.stop('SIGKILL'));
      };
    });
    await Promise.all([killed, writing]);
    await expect(page.getByText('Connection lost. Reconnecting…')).toBeVisible();

    await server.restart();
    await host.call('update_slide', { id, slide, title: 'After the crash', body: '' });
    await expect(page.getByRole('listitem', { name: 'Slide 1: After the crash' })).toBeVisible({ timeout: 20_000 });
    await expect(page.getByText('Connection lost. Reconnecting…')).toHaveCount(0);
    expect(await page.evaluate(() => (window as any).__rucheNoReload === true), 'the host tab was reloaded').toBe(true);

    // Every acknowledged change, read back through the writers' own logins (stored, so they
    // survive the restart too): the account, each session, each slide and its last edit. On
    // fresh connections: the writers' died with the server.
    let acked = 0;
    let found = 0;
    let cutOff = 0;
    for (const writer of writers) {
      acked += writer.acked;
      cutOff += writer.cutOff;
      const api = await request.newContext({
        baseURL: server.base,
        extraHTTPHeaders: { Cookie: writer.client.cookie, Accept: 'application/json', 'X-Forwarded-For': writer.client.clientIp },
      });
      const response = await api.post('/api/my_sessions', { form: {} });
      expect(response.ok(), `writer ${writer.index}'s login after the restart: ${response.status()}`).toBeTruthy();
      found += 1;
      const listed = new Map<string, string>((await response.json()).map((s: any) => [s.id, s.title]));
      for (const [sessionId, session] of writer.sessions) {
        expect(listed.get(sessionId), `writer ${writer.index}'s session ${session.title}`).toBe(session.title);
        found += 1;
        const hostView = await api.post('/api/host_session', { form: { id: sessionId } });
        expect(hostView.ok(), `host_session ${sessionId}: ${hostView.status()}`).toBeTruthy();
        const titles = new Map<string, string>(
          (await hostView.json()).state.slides.map((s: any) => [s.id, s.content.Text?.title]));
        for (const [slideId, writes] of session.slides) {
          const title = titles.get(slideId);
          expect([writes.acked, writes.pending], `slide ${slideId} of writer ${writer.index}`).toContain(title);
          found += 1 + writes.updates;
        }
      }
      await api.dispose();
    }

    // Every acknowledged join: its phone is still a participant.
    const phone = await request.newContext({ baseURL: server.base, extraHTTPHeaders: { Accept: 'application/json' } });
    for (const visitor of joined) {
      const view = await phone.post('/api/participant_view', { form: { id }, headers: { Cookie: visitor, 'X-Forwarded-For': fakeClientIp() } });
      expect(view.status(), `an acknowledged join (${visitor}) after the restart`).toBe(200);
    }
    await phone.dispose();
    expect(joined.length, 'joins acknowledged before the kill').toBeGreaterThan(0);

    const checks = sqliteChecks(server.database);
    console.log(`crash test (${test.info().project.name}): ${acked} changes acknowledged by ${WRITERS} writers (${LANES} calls at once each) in ${WRITING_MS} ms, `
      + `${found} found after the SIGKILL and restart, ${cutOff} requests cut off by the kill; ${joined.length} joins acknowledged, all found; `
      + `integrity_check: ${checks.integrity}, foreign key violations: ${checks.foreignKeyViolations}`);
    expect(found).toBe(acked);
    expect(checks).toEqual({ integrity: 'ok', foreignKeyViolations: 0 });
    // Every writer got past its sign-up: the kill came in the middle of real writing.
    for (const writer of writers) expect(writer.sessions.size, `writer ${writer.index}'s sessions`).toBeGreaterThan(0);

    await context.close();
    await host.api.dispose();
    for (const writer of writers) writer.client.close();
  } finally {
    await server.discard();
  }
});
