import { expect, test, type Locator, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import {
  baseURL, createSession, EMAIL_VERIFIED, fakeClientIp, hydrated, inviteFacilitator, jsEnabled, linkFromMail, logIn, openShare,
  PASSWORD, signUp, uniqueEmail, verifyFromMail, VERIFY_FIRST,
} from './helpers';

// Each test goes through a dozen pages in two browsers, each with its password hashes.
test.describe.configure({ timeout: 120_000 });

const LINK_EXPIRED = 'This link has expired or was already used. Ask for a new one.';

/** Clicks a form's button. Without JavaScript a refused form comes back to its page, which must
 * then answer with the error's status, as the server function does for the hydrated app. */
async function submitRefused(page: Page, button: Locator, status: number) {
  if (jsEnabled()) {
    await button.click();
    return;
  }
  const [back] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'GET' && r.request().isNavigationRequest()),
    button.click(),
  ]);
  expect(back.status()).toBe(status);
}

test('My account: changing the password logs out every other browser; the old one fails, the new one works @nojs', async ({ page, browser }) => {
  const email = await signUp(page, 'ada');
  const other = await browser.newContext({ extraHTTPHeaders: { 'X-Forwarded-For': fakeClientIp() } });
  const elsewhere = await other.newPage();
  await elsewhere.goto('/login');
  await hydrated(elsewhere);
  await logIn(elsewhere, email);
  await expect(elsewhere.getByRole('heading', { name: 'My sessions' })).toBeVisible();

  await page.getByRole('link', { name: 'ada name' }).click();
  await expect(page.getByRole('heading', { name: 'My account' })).toBeVisible();
  await expect(page.getByText(email)).toBeVisible();
  await hydrated(page);
  await page.getByLabel('Old password').fill('not my password');
  await page.getByLabel('Your new password').fill('a brand new password');
  await submitRefused(page, page.getByRole('button', { name: 'Change my password' }), 403);
  await expect(page.getByRole('alert')).toHaveText('The old password is wrong.');
  // Without JavaScript the page came back empty; with it, the new password is still typed.
  await page.getByLabel('Old password').fill(PASSWORD);
  await page.getByLabel('Your new password').fill('a brand new password');
  await page.getByRole('button', { name: 'Change my password' }).click();
  await expect(page.getByRole('status')).toContainText('Every other browser logged in to your account is now logged out');

  await elsewhere.goto('/sessions');
  await expect(elsewhere).toHaveURL(/\/login/);
  await hydrated(elsewhere);
  await logIn(elsewhere, email);
  await expect(elsewhere.getByRole('alert')).toHaveText('The e-mail address or the password is wrong.');
  await logIn(elsewhere, email, 'a brand new password');
  await expect(elsewhere.getByRole('heading', { name: 'My sessions' })).toBeVisible();
  await page.goto('/sessions');
  await expect(page.getByRole('heading', { name: 'My sessions' })).toBeVisible();
  await other.close();
});

test('Log out everywhere: a host tab open in another browser says "You were logged out."', async ({ page, browser }) => {
  const email = await signUp(page, 'everywhere');
  const path = await createSession(page, 'Open elsewhere');
  const other = await browser.newContext({ ...test.info().project.use, extraHTTPHeaders: { 'X-Forwarded-For': fakeClientIp() } });
  const elsewhere = await other.newPage();
  await elsewhere.goto('/login');
  await hydrated(elsewhere);
  await logIn(elsewhere, email);
  await expect(elsewhere.getByRole('heading', { name: 'My sessions' })).toBeVisible();
  await elsewhere.goto(path);
  await hydrated(elsewhere);
  await expect(elsewhere.locator('.host-island')).toHaveAttribute('data-hydrated', '');

  await page.goto('/account');
  await hydrated(page);
  await page.getByRole('button', { name: 'Log out everywhere' }).click();
  await expect(page.getByRole('status')).toContainText('Every other browser logged in to your account is now logged out');
  await expect(elsewhere.getByRole('alert')).toHaveText('You were logged out.');
  await expect(elsewhere.getByRole('link', { name: 'Log in' }).last()).toBeVisible();
  await other.close();
});

test('My account: a new name shows in the top bar at once, without reloading the page @nojs', async ({ page }) => {
  await signUp(page, 'renamed');
  await page.getByRole('link', { name: 'renamed name' }).click();
  await expect(page.getByRole('heading', { name: 'My account' })).toBeVisible();
  await hydrated(page);
  // Gone if the page were loaded again: the top bar must follow without a reload.
  if (jsEnabled()) await page.evaluate(() => { (window as any).__samePage = true; });
  await page.getByLabel('Your name').fill('Ada Lovelace');
  await page.getByRole('button', { name: 'Save my name' }).click();
  await expect(page.getByRole('status')).toHaveText('Your name is saved.');
  await expect(page.getByRole('banner').getByRole('link', { name: 'Ada Lovelace' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'renamed name' })).toHaveCount(0);
  if (jsEnabled()) expect(await page.evaluate(() => (window as any).__samePage)).toBe(true);
});

test('Forgot your password: the same answer for any address; the mailed link works once @nojs', async ({ page, browser }) => {
  const email = await signUp(page, 'grace');
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page.getByRole('link', { name: 'Log in' })).toBeVisible();
  await page.goto('/login');
  await hydrated(page);
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await expect(page.getByRole('heading', { name: 'Forgot your password?' })).toBeVisible();
  await hydrated(page);
  for (const address of [uniqueEmail('nobody'), email]) {
    // A fresh page each time: the sentence must be this address's answer, not the last one's.
    await page.goto('/forgot-password');
    await hydrated(page);
    await expect(page.getByRole('status')).toHaveCount(0);
    await page.getByLabel('E-mail').fill(address);
    await page.getByRole('button', { name: 'Send me a link' }).click();
    await expect(page.getByRole('status')).toHaveText('If an account uses this address, a mail is on its way.');
  }
  const link = await linkFromMail(email, 'account/reset');
  expect(link.startsWith(baseURL())).toBeTruthy();

  await page.goto(link);
  await hydrated(page);
  await page.getByLabel('Your new password').fill('chosen after forgetting');
  await page.getByRole('button', { name: 'Save and log in' }).click();
  await expect(page.getByRole('heading', { name: 'My sessions' })).toBeVisible();

  // Another browser, with JavaScript as this project has it.
  const again = await browser.newContext({ ...test.info().project.use, extraHTTPHeaders: { 'X-Forwarded-For': fakeClientIp() } });
  const second = await again.newPage();
  await resetRefused(second, link);
  await second.goto('/login');
  await hydrated(second);
  await logIn(second, email, 'chosen after forgetting');
  await expect(second.getByRole('heading', { name: 'My sessions' })).toBeVisible();
  await again.close();
});

/** Opens a used or expired reset link: refused at once, with 410 and the sentence, and no form to fill. */
async function resetRefused(page: Page, link: string) {
  expect((await page.goto(link))?.status()).toBe(410);
  await expect(page.getByRole('alert')).toHaveText(LINK_EXPIRED);
  await expect(page.getByLabel('Your new password')).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'Ask for a new link' })).toBeVisible();
}

/** The SQLite file of the server under test, from the DATABASE_URL scripts/test.sh gives both. */
function sqliteFile(): string | null {
  const url = process.env.DATABASE_URL ?? '';
  return url.startsWith('sqlite://') ? url.slice('sqlite://'.length).replace(/\?.*$/, '') : null;
}

test('an expired reset link is refused, and the password stays as it was @nojs', async ({ page }) => {
  // The server's clock cannot move: the link is aged in its row, as the Rust tests do.
  const database = sqliteFile();
  test.skip(!database, 'needs DATABASE_URL=sqlite://… of the server under test (scripts/test.sh sets it) to age the link');
  const email = await signUp(page, 'late');
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page.getByRole('link', { name: 'Log in' })).toBeVisible();
  await page.goto('/forgot-password');
  await hydrated(page);
  await page.getByLabel('E-mail').fill(email);
  await page.getByRole('button', { name: 'Send me a link' }).click();
  await expect(page.getByRole('status')).toHaveText('If an account uses this address, a mail is on its way.');
  const link = await linkFromMail(email, 'account/reset');

  // sqlite3 writes through the WAL while the server runs; the address is the test's own. It
  // waits for the server's write under way, as the server does (without `.timeout`, it fails
  // at once with "database is locked" when the other specs' writes come at the same moment).
  const aged = execFileSync('sqlite3', ['-cmd', '.timeout 5000', database!,
    `UPDATE account_tokens SET expires_at = 0 WHERE purpose = 'password_reset'
       AND user_id IN (SELECT id FROM users WHERE email = '${email}'); SELECT changes();`]).toString().trim();
  expect(aged).toBe('1');

  await resetRefused(page, link);
  await page.goto('/login');
  await hydrated(page);
  await logIn(page, email, 'too late for this');
  await expect(page.getByRole('alert')).toHaveText('The e-mail address or the password is wrong.');
  await logIn(page, email);
  await expect(page.getByRole('heading', { name: 'My sessions' })).toBeVisible();
});

test('an unverified account is refused "Send invitations" and "+Add" with the sentence, then verifies from the mail and may', async ({ page }) => {
  const email = await signUp(page, 'newcomer');
  const banner = page.getByRole('region', { name: 'E-mail verification' });
  await expect(banner).toContainText(`Your e-mail address ${email} is waiting for verification`);
  const path = await createSession(page, 'Before verifying');
  await hydrated(page);

  let dialog = await openShare(page);
  await dialog.getByLabel('E-mail addresses, separated by commas').fill(uniqueEmail('zoe'));
  await dialog.getByRole('button', { name: 'Send invitations' }).click();
  await expect(dialog.getByRole('alert')).toHaveText(VERIFY_FIRST);
  await inviteFacilitator(dialog);
  await expect(dialog.getByRole('alert')).toHaveText([VERIFY_FIRST, VERIFY_FIRST]);
  await expect(dialog.getByRole('listitem')).toHaveCount(0);

  // Asked again from where it was refused: a new mail, whose link replaces the sign-up mail's.
  const first = await linkFromMail(email, 'account/verify');
  await dialog.getByRole('button', { name: 'Send the verification mail again' }).first().click();
  await expect(dialog.getByRole('status')).toHaveText(
    `A new verification mail is on its way to ${email}. The link in any earlier one no longer works.`,
  );
  await verifyFromMail(page, email, 2);
  await expect(banner).toHaveCount(0);
  expect((await page.goto(first))?.status()).toBe(410);

  await page.goto(path);
  await hydrated(page);
  dialog = await openShare(page);
  await dialog.getByLabel('E-mail addresses, separated by commas').fill(uniqueEmail('zoe'));
  await dialog.getByRole('button', { name: 'Send invitations' }).click();
  await expect(dialog.getByRole('status')).toContainText('Invitation sent to 1 participant');
  const carol = await inviteFacilitator(dialog);
  await expect(dialog.getByRole('status').last()).toContainText('Invitation sent to 1 co-facilitator');
  await expect(dialog.getByRole('listitem').filter({ hasText: carol })).toContainText('Invited');
  await expect(dialog.getByRole('alert')).toHaveCount(0);
});

test('the verification link works once, without JavaScript too; My account asks for another @nojs', async ({ page, browser }) => {
  const email = await signUp(page, 'checker');
  await page.goto('/account');
  const banner = page.getByRole('region', { name: 'E-mail verification' });
  await expect(banner).toContainText('is waiting for verification');
  await hydrated(page);
  await banner.getByRole('button', { name: 'Send the verification mail again' }).click();
  await expect(page.getByRole('heading', { name: 'My account' })).toBeVisible();

  // Opened in another browser, logged in or not: the link is what proves the address.
  const context = await browser.newContext({ ...test.info().project.use, extraHTTPHeaders: { 'X-Forwarded-For': fakeClientIp() } });
  const elsewhere = await context.newPage();
  const link = await linkFromMail(email, 'account/verify', 2);
  expect(link.startsWith(baseURL())).toBeTruthy();
  const response = await elsewhere.goto(link);
  expect(response?.status()).toBe(200);
  // Opening it verified nothing: a mail scanner opening links proves nothing.
  await page.goto('/account');
  await expect(banner).toContainText('is waiting for verification');
  await elsewhere.getByRole('button', { name: 'Verify my e-mail address' }).click();
  await expect(elsewhere.getByRole('status')).toHaveText(EMAIL_VERIFIED);
  const again = await elsewhere.goto(link);
  expect(again?.status()).toBe(410);
  await expect(elsewhere.getByRole('alert')).toHaveText('This link has expired or was already used. Ask for a new one.');
  // An unknown link: the same sentence.
  expect((await elsewhere.goto(link.replace(/[^/]+$/, 'made-up-link')))?.status()).toBe(410);
  await expect(elsewhere.getByRole('alert')).toHaveText('This link has expired or was already used. Ask for a new one.');
  await context.close();

  await page.goto('/account');
  await expect(page.getByRole('heading', { name: 'My account' })).toBeVisible();
  await expect(banner).toHaveCount(0);
});
