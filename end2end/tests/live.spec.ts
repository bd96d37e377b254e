import { test, expect, devices, type Browser, type Page } from '@playwright/test';
import { createSession, fakeClientIp, hydrated, inviteFacilitator, linkFromMail, openShare, PASSWORD, signUp, verifyFromMail, watchConsole } from './helpers';

// Live updates need the wasm: these run in the JavaScript projects only.

/** A participant on a phone, whatever the project's viewport. */
async function phoneParticipant(browser: Browser, code: string, id: string): Promise<Page> {
  const { defaultBrowserType: _, ...phone } = devices['Pixel 7'];
  const context = await browser.newContext({
    ...phone,
    baseURL: test.info().project.use.baseURL,
    extraHTTPHeaders: { 'X-Forwarded-For': fakeClientIp() },
  });
  const page = await context.newPage();
  await page.goto(`/join?code=${encodeURIComponent(code)}`);
  await expect(page).toHaveURL(new RegExp(`/p/${id}$`));
  await hydrated(page);
  return page;
}

/** Marks a page so that a reload (which would clear the mark) fails the test. */
async function markNoReload(page: Page) {
  await page.evaluate(() => { (window as any).__rucheNoReload = true; });
}

async function notReloaded(page: Page) {
  expect(await page.evaluate(() => (window as any).__rucheNoReload === true), `${page.url()} was reloaded`).toBe(true);
}

const code = (page: Page) => page.locator('.toolbar .code-chip strong');

test('two host tabs and three phones see every change live, without a reload', async ({ page, browser }) => {
  test.setTimeout(120_000);
  const errors = watchConsole(page);
  await signUp(page, 'owner');
  const path = await createSession(page, 'Live class');
  const id = path.split('/').pop()!;
  await hydrated(page);
  const tabB = await page.context().newPage();
  await tabB.goto(path);
  await hydrated(tabB);
  const hosts = [page, tabB];

  const firstCode = (await code(page).textContent())!;
  const phones: Page[] = [];
  for (let i = 0; i < 3; i++) phones.push(await phoneParticipant(browser, firstCode, id));
  for (const p of [...hosts, ...phones]) await markNoReload(p);

  // The live count of connected participants, in every host tab.
  for (const host of hosts) await expect(host.locator('.presence')).toHaveText('3 participants connected');

  // Slides: added in one tab, seen in the other and (the first slide is shown at once) by every
  // phone; edited, likewise.
  await page.getByRole('group', { name: 'Add a slide' }).getByRole('button', { name: 'Title and text' }).click();
  await expect(tabB.getByRole('listitem', { name: 'Slide 1: New slide' })).toBeVisible();
  await expect(tabB.getByRole('button', { name: 'Shown to participants' })).toBeVisible();
  for (const phone of phones) await expect(phone.getByRole('heading', { name: 'New slide' })).toBeVisible();
  const item = page.getByRole('listitem', { name: 'Slide 1: New slide' });
  await item.getByText('Edit').click();
  await item.getByLabel('Slide title').fill('What did you learn?');
  await item.getByRole('button', { name: 'Save' }).click();
  await expect(tabB.getByRole('listitem', { name: 'Slide 1: What did you learn?' })).toBeVisible();
  for (const phone of phones) await expect(phone.getByRole('heading', { name: 'What did you learn?' })).toBeVisible();

  // A co-host's half-typed edit survives the other host's changes elsewhere.
  const editingB = tabB.getByRole('listitem', { name: 'Slide 1: What did you learn?' });
  await editingB.getByText('Edit').click();
  await editingB.getByLabel('Slide text').fill('Half-typed');

  // The "Link and QR code" slide, then a new code: every screen shows the new one.
  await page.getByRole('group', { name: 'Add a slide' }).getByRole('button', { name: 'Link and QR code' }).click();
  await expect(tabB.getByRole('listitem', { name: 'Link and QR code' })).toBeVisible();
  await expect(editingB.getByLabel('Slide text')).toHaveValue('Half-typed');
  await editingB.getByText('Edit').click();
  await page.getByRole('listitem', { name: 'Link and QR code' }).getByRole('button', { name: 'Show to participants' }).click();
  for (const phone of phones) await expect(phone.locator('.ways-in .code strong')).toHaveText(firstCode);
  await tabB.getByRole('toolbar').getByRole('button', { name: 'QR code', exact: true }).click();
  await page.getByRole('toolbar').getByRole('button', { name: 'Generate a new code' }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Generate a new code' }).click();
  await expect(code(page)).not.toHaveText(firstCode);
  const newCode = (await code(page).textContent())!;
  await expect(code(tabB)).toHaveText(newCode);
  await expect(tabB.getByRole('dialog', { name: 'QR code' }).locator('.code strong')).toHaveText(newCode);
  for (const phone of phones) await expect(phone.locator('.ways-in .code strong')).toHaveText(newCode);
  await tabB.getByRole('dialog', { name: 'QR code' }).getByRole('button', { name: 'Close' }).click();

  // The padlock: closed in one tab, every phone switches to "closed" and back on reopening. The
  // other tab's Share pop-up follows, and keeps the addresses being typed in it.
  const shareB = await openShare(tabB);
  await expect(shareB.getByText(newCode, { exact: true })).toBeVisible();
  await shareB.getByLabel('E-mail addresses, separated by commas').fill('zoe@example.org');
  await page.getByRole('button', { name: 'Session open' }).click();
  await expect(tabB.getByRole('button', { name: 'Session closed' })).toBeVisible();
  await expect(shareB.getByRole('switch', { name: 'Close session' })).toHaveAttribute('aria-checked', 'true');
  await expect(shareB.getByLabel('E-mail addresses, separated by commas')).toHaveValue('zoe@example.org');
  await shareB.getByRole('button', { name: 'Done' }).click();
  for (const phone of phones) {
    await expect(phone.getByRole('heading', { name: 'This session is closed.' })).toBeVisible();
    await expect(phone.getByRole('button', { name: 'Save nickname' })).toHaveCount(0);
  }
  await tabB.getByRole('button', { name: 'Session closed' }).click();
  await expect(page.getByRole('button', { name: 'Session open' })).toBeVisible();
  for (const phone of phones) await expect(phone.locator('.ways-in .code strong')).toHaveText(newCode);

  // A phone leaves: the count follows.
  await phones[2].context().close();
  for (const host of hosts) await expect(host.locator('.presence')).toHaveText('2 participants connected');

  for (const p of [...hosts, ...phones.slice(0, 2)]) await notReloaded(p);
  expect(errors).toEqual([]);
  for (const phone of phones.slice(0, 2)) await phone.context().close();
});

test('the facilitator list is live, and a removed facilitator loses the host view at once', async ({ page, browser }) => {
  test.setTimeout(120_000);
  await verifyFromMail(page, await signUp(page, 'owner'));
  const path = await createSession(page, 'Co-hosted live');
  await hydrated(page);
  const tabB = await page.context().newPage();
  await tabB.goto(path);
  await hydrated(tabB);
  const listB = (await openShare(tabB)).locator('.facilitators');

  const dialog = await openShare(page);
  const carol = await inviteFacilitator(dialog);
  await expect(listB.getByRole('listitem').filter({ hasText: carol })).toContainText('Invited');

  // Carol signs up through the mailed link; the owner's tabs see her active without a reload.
  const link = await linkFromMail(carol, 'facilitate');
  const context = await browser.newContext({ ...test.info().project.use });
  const other = await context.newPage();
  await other.goto(link);
  await hydrated(other);
  await other.getByRole('link', { name: 'Create an account' }).click();
  await expect(other).toHaveURL(/\/signup\?next=/);
  await hydrated(other);
  await other.getByLabel('E-mail').fill(carol);
  await other.getByLabel('Your name').fill('Carol');
  await other.getByLabel('Password').fill(PASSWORD);
  await other.getByRole('button', { name: 'Sign up' }).click();
  await expect(other.getByRole('heading', { name: 'Co-hosted live' })).toBeVisible();
  await hydrated(other);
  const carolsOtherTab = await context.newPage();
  await carolsOtherTab.goto(path);
  await hydrated(carolsOtherTab);
  await expect(listB.getByRole('listitem').filter({ hasText: carol })).toContainText('Active');

  await dialog.getByRole('button', { name: 'Remove Carol' }).click();
  await expect(listB.getByRole('listitem').filter({ hasText: carol })).toHaveCount(0);
  for (const tab of [other, carolsOtherTab]) {
    await expect(tab.getByText("You don't have access to this session.")).toBeVisible();
    await expect(tab.getByRole('heading', { name: 'Co-hosted live' })).toHaveCount(0);
  }
  await context.close();
});
