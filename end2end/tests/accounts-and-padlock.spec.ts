import { test, expect } from '@playwright/test';
import { createSession, hydrated, logIn, mailTo, PASSWORD, signUp, uniqueEmail, watchConsole } from './helpers';

test('sign up, create a session, close it with the padlock, and it stays closed @nojs', async ({ page }) => {
  const errors = watchConsole(page);
  const email = await signUp(page, 'owner');
  await expect(page.getByText('You have no sessions yet')).toBeVisible();

  const path = await createSession(page, 'Monday all-hands');
  const padlock = page.getByRole('button', { name: 'Session open' });
  await expect(padlock).toBeVisible();
  await hydrated(page);
  await padlock.click();
  await expect(page.getByRole('button', { name: 'Session closed' })).toBeVisible();
  await page.reload();
  await expect(page.getByRole('button', { name: 'Session closed' })).toBeVisible();

  await page.goto('/sessions');
  const row = page.getByRole('listitem').filter({ hasText: 'Monday all-hands' });
  await expect(row).toContainText('Closed');

  // Log out, then back in through the session's own address.
  await hydrated(page);
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page.getByRole('link', { name: 'Log in' })).toBeVisible();
  await page.goto(path);
  await expect(page).toHaveURL(/\/login\?next=/);
  await hydrated(page);
  await logIn(page, email);
  await expect(page).toHaveURL(new RegExp(`${path}$`));
  await expect(page.getByRole('button', { name: 'Session closed' })).toBeVisible();
  await hydrated(page);
  await page.getByRole('button', { name: 'Session closed' }).click();
  await expect(page.getByRole('button', { name: 'Session open' })).toBeVisible();
  // Logging out from the host page: the server ends its live connection, and the page lets go of
  // the socket without a console error.
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page.getByRole('link', { name: 'Log in' })).toBeVisible();
  await page.waitForTimeout(500);
  expect(errors).toEqual([]);
});

test('My sessions lists newest first, each with its padlock status', async ({ page }) => {
  await signUp(page, 'lister');
  await createSession(page, 'First session');
  await page.goto('/sessions');
  await createSession(page, 'Second session');
  await page.goto('/sessions');
  const items = page.getByRole('listitem');
  await expect(items).toHaveCount(2);
  await expect(items.nth(0)).toContainText('Second session');
  await expect(items.nth(1)).toContainText('First session');
  await expect(items.nth(0)).toContainText('Open');
});

test('another account is refused the first account\'s session @nojs', async ({ browser }) => {
  const ownerContext = await browser.newContext();
  const owner = await ownerContext.newPage();
  await signUp(owner, 'owner');
  const path = await createSession(owner, 'Private planning');

  const otherContext = await browser.newContext();
  const other = await otherContext.newPage();
  await signUp(other, 'stranger');
  const response = await other.goto(path);
  expect(response?.status()).toBe(403);
  await expect(other.getByText("You don't have access to this session.")).toBeVisible();
  await expect(other.getByRole('button', { name: /Session (open|closed)/ })).toHaveCount(0);
  await expect(other.getByText('Private planning')).toHaveCount(0);

  // The owner still sees it open: the refusal changed nothing.
  await owner.reload();
  await expect(owner.getByRole('button', { name: 'Session open' })).toBeVisible();
  await ownerContext.close();
  await otherContext.close();
});

test('an anonymous visitor is sent to log in @nojs', async ({ page }) => {
  await page.goto('/sessions');
  await expect(page).toHaveURL(/\/login\?next=\/sessions$/);
  await expect(page.getByRole('heading', { name: 'Log in' })).toBeVisible();
});

test('form errors are clear sentences, shown in the form @nojs', async ({ page }) => {
  const email = await signUp(page, 'taken');
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page.getByRole('link', { name: 'Log in' })).toBeVisible();

  const trySignUp = async (address: string, password: string) => {
    await page.goto('/signup');
    await hydrated(page);
    await page.getByLabel('E-mail').fill(address);
    await page.getByLabel('Your name').fill('Someone');
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign up' }).click();
  };
  // An address that has an account: answered as a new one is (nobody learns it is taken), but
  // nobody is logged in, and its owner is mailed.
  await trySignUp(email, 'someone else');
  await expect(page.getByRole('heading', { name: 'Log in' })).toBeVisible();
  expect(await mailTo(email, 'Someone tried to sign up to Ruche with your address')).toBeTruthy();
  await trySignUp(uniqueEmail('weak'), 'short');
  await expect(page.getByRole('alert')).toHaveText('Choose a password of at least 8 characters.');
  await trySignUp('not an e-mail', PASSWORD);
  await expect(page.getByRole('alert')).toHaveText('Enter a valid e-mail address, like name@example.com.');

  await page.goto('/login');
  await hydrated(page);
  await logIn(page, email, 'wrong password');
  await expect(page.getByRole('alert')).toHaveText('The e-mail address or the password is wrong.');
  await expect(page).toHaveURL(/\/login/);

  await page.goto('/login');
  await hydrated(page);
  await logIn(page, email);
  await expect(page).toHaveURL(/\/sessions$/);
  await createSessionWithBlankTitle(page);
});

async function createSessionWithBlankTitle(page: import('@playwright/test').Page) {
  await page.goto('/sessions/new');
  await hydrated(page);
  await page.getByLabel('Title').fill('   ');
  await page.getByRole('button', { name: 'Create the session' }).click();
  await expect(page.getByRole('alert')).toHaveText('Give the session a title of 1 to 120 characters.');
}
