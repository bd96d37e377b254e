import { test, expect, devices, type Browser, type Locator, type Page } from '@playwright/test';
import { createSession, fakeClientIp, hostSession, hydrated, jsEnabled, openShare, signUp, watchConsole } from './helpers';

// A session's life: confirmations above the Share pop-up, rename, the ⋮ menu of "My sessions"
// (close and open, duplicate, delete) and what a deleted session's screens and code say. Each
// test drives several pages of a debug build: they get twice the default time.
test.describe.configure({ timeout: 120_000 });

/** A participant on a phone, whatever the project's viewport. */
async function phoneParticipant(browser: Browser, code: string, id: string): Promise<Page> {
  const { defaultBrowserType: _, ...phone } = devices['Pixel 7'];
  const context = await browser.newContext({
    ...phone,
    javaScriptEnabled: jsEnabled(),
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

/** A click with the mouse, or a tap on a touch screen (the phone project). */
async function press(target: Locator) {
  if (test.info().project.use.hasTouch) await target.tap();
  else await target.click();
}

const chip = (page: Page) => page.locator('.toolbar .code-chip strong');

test('"Generate a new code" confirms above the Share pop-up, by pointer and by keyboard, from the toolbar and the pop-up', async ({ page }) => {
  const errors = watchConsole(page);
  await signUp(page, 'confirmer');
  await createSession(page, 'Confirmations');
  await hydrated(page);
  const confirm = page.getByRole('alertdialog', { name: 'Generate a new code?' });
  const toolbarButton = page.getByRole('toolbar').getByRole('button', { name: 'Generate a new code' });
  let before = (await chip(page).textContent())!;

  // Toolbar, keyboard: focus goes into the confirmation, Escape cancels and focus comes back.
  await toolbarButton.focus();
  await page.keyboard.press('Enter');
  await expect(confirm).toBeVisible();
  await expect(confirm.getByRole('button', { name: 'Cancel' })).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(confirm).toBeHidden();
  await expect(toolbarButton).toBeFocused();
  await expect(chip(page)).toHaveText(before);
  // Tab stays inside and reaches the confirming button.
  await page.keyboard.press('Enter');
  await expect(confirm.getByRole('button', { name: 'Cancel' })).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(confirm.getByRole('button', { name: 'Generate a new code' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(confirm).toBeHidden();
  await expect(chip(page)).not.toHaveText(before);
  await expect(toolbarButton).toBeFocused();

  // Share pop-up, pointer: the confirmation is on top and takes the click or the tap.
  before = (await chip(page).textContent())!;
  const share = await openShare(page);
  const shareButton = share.getByRole('button', { name: 'Generate a new code' });
  await press(shareButton);
  await expect(confirm).toBeVisible();
  await press(confirm.getByRole('button', { name: 'Generate a new code' }));
  await expect(confirm).toBeHidden();
  await expect(share).toBeVisible();
  await expect(chip(page)).not.toHaveText(before);
  const renewed = (await chip(page).textContent())!;
  await expect(share.locator('.code-line strong')).toHaveText(renewed);
  await expect(shareButton).toBeFocused();

  // Share pop-up, keyboard: Escape closes the confirmation alone; then Tab and Enter confirm.
  await shareButton.focus();
  await page.keyboard.press('Enter');
  await expect(confirm.getByRole('button', { name: 'Cancel' })).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(confirm).toBeHidden();
  await expect(share).toBeVisible();
  await expect(shareButton).toBeFocused();
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await expect(confirm).toBeHidden();
  await expect(share.locator('.code-line strong')).not.toHaveText(renewed);
  await expect(share).toBeVisible();
  expect(errors).toEqual([]);
});

test('the owner renames the session: every host tab and phone shows the new title without a reload', async ({ page, browser }) => {
  const errors = watchConsole(page);
  await signUp(page, 'renamer');
  const path = await createSession(page, 'Working title');
  const id = path.split('/').pop()!;
  await hydrated(page);
  const tabB = await page.context().newPage();
  await tabB.goto(path);
  await hydrated(tabB);
  const phone = await phoneParticipant(browser, (await chip(page).textContent())!, id);
  await expect(phone.getByRole('heading', { name: 'Working title' })).toBeVisible();
  for (const p of [page, tabB, phone]) await markNoReload(p);

  await page.getByRole('button', { name: 'Rename' }).click();
  const field = page.getByLabel('Session title');
  await expect(field).toBeFocused();
  await field.fill('  Final title ');
  await page.getByRole('button', { name: 'Save the title' }).click();
  await expect(field).toBeHidden();
  for (const p of [page, tabB, phone]) {
    await expect(p.getByRole('heading', { name: 'Final title', level: 1 })).toBeVisible();
    await notReloaded(p);
  }
  await expect(tabB).toHaveTitle('Final title · Ruche');
  await expect(phone).toHaveTitle('Final title · Ruche');
  expect(errors).toEqual([]);
});

/** The ⋮ menu of a line of "My sessions". */
async function menu(page: Page, title: string): Promise<Locator> {
  const line = page.getByRole('listitem').filter({ has: page.getByRole('link', { name: title, exact: true }) });
  await line.getByRole('button', { name: `Actions for ${title}` }).click();
  return line;
}

test('My sessions ⋮: close and open, duplicate with the slides, delete after a confirmation naming the session @nojs', async ({ page }) => {
  const errors = watchConsole(page);
  await signUp(page, 'lister');
  await createSession(page, 'Quarterly review');
  await hydrated(page);
  await page.getByRole('group', { name: 'Add a slide' }).getByRole('button', { name: 'Title and text' }).click();
  await expect(page.getByRole('listitem', { name: 'Slide 1: New slide' })).toBeVisible();
  await page.getByRole('group', { name: 'Add a slide' }).getByRole('button', { name: 'Link and QR code' }).click();
  await expect(page.getByRole('listitem', { name: 'Link and QR code' })).toBeVisible();
  await page.goto('/sessions');
  await hydrated(page);

  // The padlock, from the list.
  let line = await menu(page, 'Quarterly review');
  await line.getByRole('button', { name: 'Close the session' }).click();
  line = page.getByRole('listitem').filter({ hasText: 'Quarterly review' });
  await expect(line.locator('.status')).toHaveText('Closed');
  line = await menu(page, 'Quarterly review');
  await line.getByRole('button', { name: 'Open the session' }).click();
  await expect(page.getByRole('listitem').filter({ hasText: 'Quarterly review' }).locator('.status')).toHaveText('Open');

  // Duplicate: on top of the list, open, with the same slides in the same order.
  line = await menu(page, 'Quarterly review');
  await line.getByRole('button', { name: 'Duplicate' }).click();
  const first = page.locator('.session-list > li').first();
  await expect(first.getByRole('link')).toHaveText('Copy of Quarterly review');
  await expect(first.locator('.status')).toHaveText('Open');
  await first.getByRole('link', { name: 'Copy of Quarterly review' }).click();
  await expect(page.getByRole('heading', { name: 'Copy of Quarterly review', level: 1 })).toBeVisible();
  await expect(page.locator('.slide-item')).toHaveCount(2);
  await expect(page.locator('.slide-item').nth(0)).toHaveAttribute('aria-label', 'Slide 1: New slide');
  await expect(page.locator('.slide-item').nth(1)).toHaveAttribute('aria-label', 'Link and QR code');
  await page.goto('/sessions');
  await hydrated(page);

  // Delete: a confirmation names the session; Cancel keeps it, then it goes for good.
  line = await menu(page, 'Copy of Quarterly review');
  await line.getByRole('button', { name: 'Delete' }).click();
  const confirm = page.getByRole('alertdialog', { name: 'Delete “Copy of Quarterly review”?' });
  await expect(confirm).toBeVisible();
  await expect(confirm).toContainText('This session no longer exists.');
  if (jsEnabled()) await expect(confirm.getByRole('button', { name: 'Cancel' })).toBeFocused();
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(confirm).toBeHidden();
  await expect(page.getByRole('link', { name: 'Copy of Quarterly review' })).toBeVisible();
  if (jsEnabled()) {
    // Focus is back on "Delete", in the menu still open.
    await expect(line.getByRole('button', { name: 'Delete' })).toBeFocused();
  } else {
    line = await menu(page, 'Copy of Quarterly review');
  }
  await line.getByRole('button', { name: 'Delete' }).click();
  await confirm.getByRole('button', { name: 'Delete the session' }).click();
  await expect(page.getByRole('link', { name: 'Copy of Quarterly review' })).toHaveCount(0);
  await expect(confirm).toBeHidden();
  await expect(page.getByRole('link', { name: 'Quarterly review', exact: true })).toBeVisible();
  expect(errors).toEqual([]);
});

test('a phone inside a session that is deleted sees "This session no longer exists." without a reload, and so does every host tab', async ({ page, browser }) => {
  const errors = watchConsole(page);
  await signUp(page, 'deleter');
  const path = await createSession(page, 'Doomed');
  const id = path.split('/').pop()!;
  await hydrated(page);
  const code = (await chip(page).textContent())!;
  const hostTab = await page.context().newPage();
  await hostTab.goto(path);
  await hydrated(hostTab);
  const phone = await phoneParticipant(browser, code, id);
  await expect(phone.getByRole('heading', { name: 'Doomed' })).toBeVisible();
  for (const p of [hostTab, phone]) await markNoReload(p);

  await page.goto('/sessions');
  await hydrated(page);
  const line = await menu(page, 'Doomed');
  await line.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('alertdialog', { name: 'Delete “Doomed”?' }).getByRole('button', { name: 'Delete the session' }).click();
  await expect(page.getByRole('link', { name: 'Doomed' })).toHaveCount(0);

  await expect(phone.getByRole('heading', { name: 'This session no longer exists.' })).toBeVisible();
  await notReloaded(phone);
  await expect(hostTab.getByRole('alert')).toHaveText('This session no longer exists.');
  await notReloaded(hostTab);
  // Reloaded, and by its old code: the same sentence, with 410.
  expect((await phone.reload())!.status()).toBe(410);
  await expect(phone.getByRole('heading', { name: 'This session no longer exists.' })).toBeVisible();
  const response = await phone.goto(`/join?code=${encodeURIComponent(code)}`);
  expect(response!.status()).toBe(410);
  await expect(phone.getByRole('alert')).toHaveText('This session no longer exists.');
  expect(errors).toEqual([]);
});

test('a duplicated session is joined by its new code while the original code still leads to the original @nojs', async ({ browser }) => {
  const original = await hostSession('Original');
  await original.call('add_slide', { id: original.id, kind: 'Text' });
  const copy: string = await original.call('duplicate_session', { id: original.id });
  const copied = await original.call('host_session', { id: copy });
  expect(copied.state.title).toBe('Copy of Original');
  expect(copied.state.ways_in.code).not.toBe(original.code);

  const intoCopy = await phoneParticipant(browser, copied.state.ways_in.code, copy);
  await expect(intoCopy.getByRole('heading', { name: 'Copy of Original' })).toBeVisible();
  await expect(intoCopy.getByRole('heading', { name: 'New slide' })).toBeVisible();
  const intoOriginal = await phoneParticipant(browser, original.code, original.id);
  await expect(intoOriginal.getByRole('heading', { name: 'Original', exact: true })).toBeVisible();
});
