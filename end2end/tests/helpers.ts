import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Locator, type Page } from '@playwright/test';

/** An address no other test (or earlier run on the same database) uses. */
export function uniqueEmail(who: string): string {
  return `${who}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}@example.org`;
}

export const PASSWORD = 'correct horse battery';

/** Fails the test on any console error (a failed hydration, a 404 asset, a panic). */
export function watchConsole(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()); });
  page.on('pageerror', (err) => errors.push(err.message));
  return errors;
}

/** Fails on any serious or critical violation axe finds on the page as it stands (WCAG 2 A and
 * AA rules, contrast included), naming each rule and where. axe is a script: with JavaScript
 * off it cannot run, and the same server-rendered page is checked by the projects with it on. */
export async function noSeriousAccessibilityIssue(page: Page) {
  if (!jsEnabled()) return;
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const serious = results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(serious, `axe on ${page.url()}`).toEqual([]);
}

export function jsEnabled(): boolean {
  return test.info().project.use.javaScriptEnabled !== false;
}

/** Waits until the wasm has hydrated the page (no-op with JavaScript off). */
export async function hydrated(page: Page) {
  if (jsEnabled()) {
    await page.waitForFunction(() => (window as any).__rucheHydrated === true);
  }
}

export async function signUp(page: Page, who = 'host'): Promise<string> {
  const email = uniqueEmail(who);
  // An address of its own: sign-ups are limited per client address, and the whole suite would
  // otherwise sign up from 127.0.0.1.
  await page.context().setExtraHTTPHeaders({ 'X-Forwarded-For': fakeClientIp() });
  await page.goto('/signup');
  await hydrated(page);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Your name').fill(`${who} name`);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page).toHaveURL(/\/sessions$/);
  await expect(page.getByRole('heading', { name: 'My sessions' })).toBeVisible();
  return email;
}

export async function logIn(page: Page, email: string, password = PASSWORD) {
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

/** Opens the Share pop-up of the session shown. */
export async function openShare(page: Page): Promise<Locator> {
  await page.getByRole('button', { name: 'Share', exact: true }).click();
  return page.getByRole('dialog', { name: 'Share' });
}

/** "+Add" in the Share pop-up: invites a new address as co-facilitator and returns it. */
export async function inviteFacilitator(dialog: Locator, who = 'carol'): Promise<string> {
  await dialog.getByRole('button', { name: '+Add' }).click();
  const email = uniqueEmail(who);
  await dialog.getByLabel("Co-facilitators' e-mail addresses").fill(email);
  await dialog.getByRole('button', { name: 'Add', exact: true }).click();
  return email;
}

/** Creates a session from "My sessions" and returns its host page's path. */
export async function createSession(page: Page, title: string): Promise<string> {
  await page.getByRole('link', { name: 'Create a session' }).first().click();
  await expect(page).toHaveURL(/\/sessions\/new$/);
  await hydrated(page);
  await page.getByLabel('Title').fill(title);
  await page.getByRole('button', { name: 'Create the session' }).click();
  await expect(page).toHaveURL(/\/s\/[0-9a-f-]{36}$/);
  await expect(page.getByRole('heading', { name: title })).toBeVisible();
  return new URL(page.url()).pathname;
}

import { request, type Browser, type BrowserContext } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function baseURL(): string {
  return test.info().project.use.baseURL ?? 'http://127.0.0.1:3000';
}

/** A client address of its own (the test server trusts 127.0.0.1 as a proxy), so that one test's
 * failed joins never count against another's. */
export function fakeClientIp(): string {
  const n = () => 1 + Math.floor(Math.random() * 254);
  return `10.${n()}.${n()}.${n()}`;
}

export async function newParticipant(browser: Browser, ip = fakeClientIp()): Promise<BrowserContext> {
  const project = test.info().project.use;
  const context = await browser.newContext({ ...project, extraHTTPHeaders: { 'X-Forwarded-For': ip } });
  return context;
}

export interface HostedSession {
  id: string;
  code: string;
  link: string;
  qrPng: string;
  call: (name: string, form?: Record<string, string>) => Promise<any>;
}

/** An owner and a session, made through the server functions: participant tests start here. */
export async function hostSession(title: string): Promise<HostedSession> {
  const api = await request.newContext({ baseURL: baseURL(), extraHTTPHeaders: { 'X-Forwarded-For': fakeClientIp() } });
  const call = async (name: string, form: Record<string, string> = {}) => {
    const response = await api.post(`/api/${name}`, { form });
    expect(response.ok(), `${name}: ${response.status()} ${await response.text()}`).toBeTruthy();
    return response.json();
  };
  await call('sign_up', { email: uniqueEmail('host'), display_name: 'Host', password: PASSWORD });
  const id: string = await call('create_session', { title });
  const hosted: HostedSession = { id, code: '', link: '', qrPng: '', call };
  await refreshWaysIn(hosted);
  return hosted;
}

export async function refreshWaysIn(session: HostedSession) {
  const host = await session.call('host_session', { id: session.id });
  session.code = host.state.ways_in.code;
  session.link = host.state.ways_in.link;
  session.qrPng = host.state.ways_in.qr_png;
}

/** Reads a QR code from a PNG with a real decoder (zbarimg). */
export function decodeQr(png: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'ruche-qr-'));
  const file = join(dir, 'qr.png');
  writeFileSync(file, png);
  return execFileSync('zbarimg', ['--quiet', '--raw', '--nodbus', file]).toString().trim();
}

import { readdirSync, readFileSync, statSync } from 'node:fs';

/** Waits for a mail to `to` in the test SMTP server's Maildir and returns the link in it that
 * starts with `${baseURL}/${path}/`. With `count`, waits for that many such mails and returns
 * the newest one's link (an earlier link may have been replaced by asking again). */
export async function linkFromMail(to: string, path: string, count = 1): Promise<string> {
  const maildir = process.env.RUCHE_TEST_MAILDIR;
  if (!maildir) throw new Error('RUCHE_TEST_MAILDIR is not set: run the suite through scripts/test.sh');
  for (let i = 0; i < 150; i++) {
    const found: { at: number; link: string }[] = [];
    for (const sub of ['new', 'cur']) {
      let files: string[] = [];
      try { files = readdirSync(join(maildir, sub)); } catch { continue; }
      for (const file of files) {
        const raw = readFileSync(join(maildir, sub, file), 'utf8');
        if (!raw.includes(`To: ${to}`)) continue;
        const text = raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
        const match = text.match(new RegExp(`https?://[^\\s"<]+/${path}/[0-9A-Za-z_-]+`));
        if (match) found.push({ at: statSync(join(maildir, sub, file)).mtimeMs, link: match[0] });
      }
    }
    if (found.length >= count) return found.sort((a, b) => a.at - b.at)[found.length - 1].link;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no ${count} mail(s) to ${to} with a /${path}/ link`);
}

/** Waits for a mail to `to` in the test SMTP server's Maildir that contains `text`. */
export async function mailTo(to: string, text: string): Promise<boolean> {
  const maildir = process.env.RUCHE_TEST_MAILDIR;
  if (!maildir) throw new Error('RUCHE_TEST_MAILDIR is not set: run the suite through scripts/test.sh');
  for (let i = 0; i < 150; i++) {
    for (const sub of ['new', 'cur']) {
      let files: string[] = [];
      try { files = readdirSync(join(maildir, sub)); } catch { continue; }
      for (const file of files) {
        const raw = readFileSync(join(maildir, sub, file), 'utf8');
        if (raw.includes(`To: ${to}`) && raw.replace(/=\r?\n/g, '').includes(text)) return true;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no mail to ${to} saying ${JSON.stringify(text)}`);
}

export const EMAIL_VERIFIED = 'Your e-mail address is verified. You can now send e-mail invitations and add co-facilitators.';
export const VERIFY_FIRST = 'Verify your e-mail address first: we sent you a link.';

/** Opens the link of the newest verification mail to `email` (the `count`th, when it was asked
 * for again) in this page, checks it worked, and comes back to "My sessions". */
export async function verifyFromMail(page: Page, email: string, count = 1) {
  const link = await linkFromMail(email, 'account/verify', count);
  const response = await page.goto(link);
  expect(response?.status()).toBe(200);
  // Opening the link verifies nothing (mail scanners open links): its button does.
  await page.getByRole('button', { name: 'Verify my e-mail address' }).click();
  await expect(page.getByRole('status')).toHaveText(EMAIL_VERIFIED);
  await page.goto('/sessions');
  await expect(page.getByRole('heading', { name: 'My sessions' })).toBeVisible();
}
