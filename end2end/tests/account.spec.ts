import { expect, test } from '@playwright/test';
import { baseURL, fakeClientIp, hydrated, linkFromMail, logIn, PASSWORD, signUp, uniqueEmail } from './helpers';

// Each test goes through a dozen pages in two browsers, each with its password hashes.
test.describe.configure({ timeout: 120_000 });

test('My account: changing the password logs out every other browser; the old one fails, the new one works', async ({ page, browser }) => {
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
  await page.getByRole('button', { name: 'Change my password' }).click();
  await expect(page.getByRole('alert')).toHaveText('The old password is wrong.');
  await page.getByLabel('Old password').fill(PASSWORD);
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

test('Forgot your password: the same answer for any address; the mailed link works once', async ({ page, browser }) => {
  const email = await signUp(page, 'grace');
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.goto('/login');
  await hydrated(page);
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await expect(page.getByRole('heading', { name: 'Forgot your password?' })).toBeVisible();
  await hydrated(page);
  for (const address of [uniqueEmail('nobody'), email]) {
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

  const again = await browser.newContext({ extraHTTPHeaders: { 'X-Forwarded-For': fakeClientIp() } });
  const second = await again.newPage();
  await second.goto(link);
  await hydrated(second);
  await second.getByLabel('Your new password').fill('someone else trying');
  await second.getByRole('button', { name: 'Save and log in' }).click();
  await expect(second.getByRole('alert')).toHaveText('This link has expired or was already used. Ask for a new one.');
  await second.goto('/login');
  await hydrated(second);
  await logIn(second, email, 'chosen after forgetting');
  await expect(second.getByRole('heading', { name: 'My sessions' })).toBeVisible();
  await again.close();
});
