import { expect, test, type Browser, type Page } from '@playwright/test';
import { createSession, fakeClientIp, hydrated, jsEnabled, linkFromMail, logIn, PASSWORD, uniqueEmail } from './helpers';
import { OwnServer } from './server';

// An instance of its own, invitation-only, whose first account comes from `server admin add`:
// the suite's server has its first account already. It mails through the suite's SMTP server.
test.describe.configure({ timeout: 120_000 });

async function browserOn(browser: Browser, server: OwnServer): Promise<Page> {
  const context = await browser.newContext({
    ...test.info().project.use,
    baseURL: server.base,
    extraHTTPHeaders: { 'X-Forwarded-For': fakeClientIp() },
  });
  return context.newPage();
}

/** Fills the invitation's sign-up form, whose address is the invited one. */
async function signUpInvited(page: Page, link: string, email: string, name: string) {
  await page.goto(link);
  await hydrated(page);
  await expect(page.getByLabel('E-mail')).toHaveValue(email);
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page.getByRole('heading', { name: 'My sessions' })).toBeVisible();
}

test('an administrator invites an account, disables, enables and deletes it @nojs', async ({ browser }) => {
  const server = await OwnServer.start('ruche-admin-', { SIGNUP: 'invite', SMTP_URL: process.env.SMTP_URL ?? '' });
  try {
    const admin = await browserOn(browser, server);
    await admin.goto('/signup');
    await expect(admin.getByText('Accounts here are by invitation only.')).toBeVisible();

    const adminEmail = uniqueEmail('admin');
    const printed = server.command(['admin', 'add', adminEmail]);
    const adminLink = printed.match(/http\S+\/invitation\/[0-9A-Za-z_-]+/)?.[0];
    expect(adminLink, printed).toBeTruthy();
    await signUpInvited(admin, adminLink!, adminEmail, 'Ada Admin');
    await admin.getByRole('link', { name: 'Administration' }).click();
    await expect(admin.getByRole('heading', { name: 'Accounts' })).toBeVisible();

    const bobEmail = uniqueEmail('bob');
    await admin.getByLabel('E-mail', { exact: true }).fill(bobEmail);
    await admin.getByRole('button', { name: 'Send the invitation' }).click();
    await expect(admin.getByRole('status')).toContainText('on its way');
    const bob = await browserOn(browser, server);
    await signUpInvited(bob, await linkFromMail(bobEmail, 'invitation'), bobEmail, 'Bob Host');
    await createSession(bob, "Bob's talk");

    await admin.goto('/admin');
    await admin.getByRole('searchbox', { name: 'Search by name or e-mail' }).fill('bob');
    await admin.getByRole('button', { name: 'Search' }).click();
    const line = admin.getByRole('listitem').filter({ hasText: bobEmail });
    await expect(line).toContainText('1 session');
    await line.getByRole('button', { name: 'Disable' }).click();
    await expect(line.getByText('Disabled', { exact: true })).toBeVisible();

    // Bob's login ended: the next page asks him to log in, which is refused with the reason.
    await bob.goto('/sessions');
    await expect(bob).toHaveURL(/\/login/);
    await hydrated(bob);
    await logIn(bob, bobEmail);
    await expect(bob.getByRole('alert')).toHaveText('This account is disabled. Ask the administrator of this Ruche.');

    await line.getByRole('button', { name: 'Enable' }).click();
    await expect(line.getByRole('button', { name: 'Disable' })).toBeVisible();
    await bob.goto('/login');
    await hydrated(bob);
    await logIn(bob, bobEmail);
    await expect(bob.getByRole('heading', { name: 'My sessions' })).toBeVisible();
    // Its session closed when the account was disabled, and stays closed.
    await expect(bob.getByRole('listitem').filter({ hasText: "Bob's talk" })).toContainText('Closed');

    await line.getByRole('link', { name: 'Delete…' }).click();
    await expect(admin.getByRole('heading', { name: 'Delete the account of Bob Host?' })).toBeVisible();
    await expect(admin.getByText('Its session goes with it')).toBeVisible();
    await admin.getByRole('button', { name: 'Delete the account' }).click();
    await expect(admin.getByRole('status')).toHaveText('The account and its sessions are deleted.');
    await expect(admin.getByText(bobEmail)).toHaveCount(0);
    // The administrator's own line offers neither.
    const own = admin.getByRole('listitem').filter({ hasText: adminEmail });
    await expect(own.getByRole('button', { name: 'Disable' })).toHaveCount(0);
    await expect(own.getByRole('link', { name: 'Delete…' })).toHaveCount(0);

    await bob.goto('/sessions');
    await expect(bob).toHaveURL(/\/login/);
    if (jsEnabled()) await hydrated(bob);
  } finally {
    await server.discard();
  }
});
