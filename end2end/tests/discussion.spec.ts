import { test, expect, devices, type Browser, type Page } from '@playwright/test';
import { createSession, fakeClientIp, hostSession, hydrated, jsEnabled, newParticipant, signUp, watchConsole } from './helpers';

/** The message of the list that says `text`. */
const message = (page: Page, text: string) => page.getByRole('list', { name: 'Messages' }).getByRole('listitem').filter({ hasText: text });

/** Posts from the participant page, giving a nickname when the form asks for one. */
async function post(page: Page, text: string, nickname?: string) {
  if (nickname) await page.getByLabel('Your nickname').fill(nickname);
  await page.getByLabel('Your message').fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
}

/** Without JavaScript the page comes back from each form; with it, the page stays. */
async function seen(page: Page) {
  if (!jsEnabled()) await page.reload();
}

test('participants post, see each other\'s messages and like them; a closed Discussion refuses posts @nojs', async ({ browser }) => {
  const session = await hostSession('Town hall');
  const [zoe, tom] = await Promise.all([newParticipant(browser), newParticipant(browser)]);
  const a = await zoe.newPage();
  const b = await tom.newPage();
  const errors = [...watchConsole(a), ...watchConsole(b)];
  for (const page of [a, b]) {
    await page.goto(`/join?code=${encodeURIComponent(session.code)}`);
    await hydrated(page);
    await expect(page.getByRole('heading', { name: 'Discussion' })).toBeVisible();
    await expect(page.getByText('No messages yet.')).toBeVisible();
  }

  await post(a, 'Where are the slides?', 'Zoé');
  await expect(message(a, 'Where are the slides?')).toContainText('Zoé');
  await expect(a.getByLabel('Your nickname')).toHaveCount(0);
  // The other phone: live with JavaScript, on its next load without.
  await seen(b);
  await expect(message(b, 'Where are the slides?')).toContainText('0 likes');

  await message(b, 'Where are the slides?').getByRole('button', { name: 'Like' }).click();
  await expect(message(b, 'Where are the slides?')).toContainText('1 like');
  await seen(a);
  await message(a, 'Where are the slides?').getByRole('button', { name: 'Like' }).click();
  await expect(message(a, 'Where are the slides?')).toContainText('2 likes');
  await seen(b);
  await expect(message(b, 'Where are the slides?')).toContainText('2 likes');
  await expect(message(b, 'Where are the slides?').getByRole('button', { name: 'Like' })).toHaveAttribute('aria-pressed', 'true');

  // Its author edits it; the others see the new text.
  const own = message(a, 'Where are the slides?');
  await own.getByText('Edit').click();
  await own.getByLabel('New text').fill('Where are the slides, please?');
  await own.getByRole('button', { name: 'Save the message' }).click();
  await expect(message(a, 'Where are the slides, please?')).toContainText('(edited)');
  await seen(b);
  await expect(message(b, 'Where are the slides, please?')).toContainText('2 likes');

  // Text stays text.
  await post(b, '<b>bold?</b> https://example.org', 'Tom');
  await expect(message(b, '<b>bold?</b> https://example.org')).toBeVisible();
  await expect(b.locator('.messages b')).toHaveCount(0);
  await expect(b.locator('.messages a')).toHaveCount(0);

  await session.call('set_discussion', { id: session.id, open: 'false', review_first: 'false', anonymous: 'false' });
  if (jsEnabled()) {
    // Closed while the page is open: the form goes, live.
    await expect(a.getByRole('status').filter({ hasText: 'The Discussion is closed' })).toBeVisible();
    await expect(a.getByRole('button', { name: 'Send' })).toHaveCount(0);
  } else {
    // Posted from a page loaded while it was open: refused with the sentence.
    await post(a, 'Too late?');
    await expect(a.getByRole('alert')).toHaveText('The Discussion is closed: you can read it, but not post or like.');
  }
  await expect(message(a, 'Too late?')).toHaveCount(0);
  await expect(message(a, 'Where are the slides, please?')).toBeVisible();
  expect(errors).toEqual([]);
  await Promise.all([zoe.close(), tom.close()]);
});

/** A participant on a phone, whatever the project's viewport. */
async function phone(browser: Browser, code: string): Promise<Page> {
  const { defaultBrowserType: _, ...pixel } = devices['Pixel 7'];
  const context = await browser.newContext({
    ...pixel,
    baseURL: test.info().project.use.baseURL,
    extraHTTPHeaders: { 'X-Forwarded-For': fakeClientIp() },
  });
  const page = await context.newPage();
  await page.goto(`/join?code=${encodeURIComponent(code)}`);
  await hydrated(page);
  return page;
}

test('review first: the post waits, a host approves it, and a banned phone loses its messages and its seat', async ({ page, browser }) => {
  test.skip(!jsEnabled(), 'the host page follows the Discussion live');
  test.setTimeout(90_000);
  await signUp(page, 'owner');
  await createSession(page, 'Moderated talk');
  await hydrated(page);
  const code = (await page.locator('.toolbar .code-chip strong').textContent())!;
  const [zoe, tom] = [await phone(browser, code), await phone(browser, code)];

  await page.getByRole('button', { name: 'Review messages first' }).click();
  await expect(page.locator('.discussion-status')).toContainText('reviewed before they are published');

  await post(zoe, 'Is this recorded?', 'Zoé');
  await expect(message(zoe, 'Is this recorded?')).toContainText('Waiting for moderation');
  const held = message(page, 'Is this recorded?');
  await expect(held).toContainText('Waiting for moderation');
  await expect(message(tom, 'Is this recorded?')).toHaveCount(0);

  await held.getByRole('button', { name: 'Approve' }).click();
  await expect(message(tom, 'Is this recorded?')).toBeVisible();
  await expect(message(zoe, 'Is this recorded?')).not.toContainText('Waiting for moderation');
  await expect(held).toContainText('Published');

  await held.getByRole('button', { name: 'Pin', exact: true }).click();
  await expect(message(tom, 'Is this recorded?')).toContainText('Pinned');

  // The projection screen shows the pinned messages once a host chooses so, live.
  const screen = await page.context().newPage();
  await screen.goto(`${new URL(page.url()).pathname}/screen`);
  await hydrated(screen);
  await expect(message(screen, 'Is this recorded?')).toHaveCount(0);
  await page.getByRole('group', { name: 'On the projection screen' }).getByRole('button', { name: 'Pinned messages' }).click();
  await expect(message(screen, 'Is this recorded?')).toBeVisible();

  await held.getByRole('button', { name: 'Ban the author' }).click();
  for (const p of [page, zoe, tom, screen]) await expect(message(p, 'Is this recorded?')).toHaveCount(0);
  await expect(zoe.getByRole('alert')).toHaveText('A host removed you from this session.');
  const again = await zoe.reload();
  expect(again?.status()).toBe(403);
  await expect(zoe.getByText('A host removed you from this session.')).toBeVisible();
  // The others go on.
  await post(tom, 'Thanks!', 'Tom');
  await expect(message(page, 'Thanks!')).toBeVisible();

  // Clearing asks first, then empties every tab.
  await page.getByRole('button', { name: 'Clear the Discussion' }).click();
  const confirm = page.getByRole('alertdialog', { name: 'Clear the Discussion?' });
  await confirm.getByRole('button', { name: 'Clear', exact: true }).click();
  for (const p of [page, tom]) await expect(message(p, 'Thanks!')).toHaveCount(0);
  await expect(tom.getByText('No messages yet.')).toBeVisible();
});
