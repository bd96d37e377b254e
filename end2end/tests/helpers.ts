import { expect, test, type Page } from '@playwright/test';

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
