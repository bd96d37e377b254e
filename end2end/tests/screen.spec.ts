import { test, expect, type Page } from '@playwright/test';
import { createSession, decodeQr, hydrated, newParticipant, signUp, watchConsole } from './helpers';

/** The projection screen, opened from the host toolbar in a window of its own. */
async function openScreen(host: Page): Promise<Page> {
  const [screen] = await Promise.all([
    host.context().waitForEvent('page'),
    host.getByRole('link', { name: 'Projection screen' }).click(),
  ]);
  await hydrated(screen);
  return screen;
}

/** The link the screen's QR code holds, read by zbarimg from a screenshot of it once loaded;
 * '' while a new one is loading. */
async function qrLink(screen: Page): Promise<string> {
  const image = screen.getByRole('img', { name: /^QR code to join/ });
  await expect.poll(() => image.evaluate((e: HTMLImageElement) => e.complete && e.naturalWidth > 0)).toBe(true);
  try {
    return decodeQr(await image.screenshot());
  } catch {
    return '';
  }
}

test('the projection screen shows the active slide alone and follows a new code and a close, without a reload', async ({ page, browser }) => {
  test.setTimeout(120_000);
  const errors = watchConsole(page);
  await signUp(page, 'projector');
  const path = await createSession(page, 'Town hall');
  await hydrated(page);

  const screen = await openScreen(page);
  const screenErrors = watchConsole(screen);
  await expect(screen).toHaveURL(new RegExp(`${path}/screen$`));
  await screen.evaluate(() => { (window as any).__rucheNoReload = true; });
  // No slide yet: the title, as participants see it, and none of the host's tools.
  await expect(screen.getByRole('heading', { name: 'Town hall' })).toBeVisible();
  await expect(screen.getByRole('button', { name: 'Share' })).toBeHidden();
  await expect(screen.getByRole('link', { name: 'My sessions' })).toBeHidden();

  // The first slide added is shown: the screen follows.
  await page.getByRole('button', { name: 'Link and QR code' }).click();
  const qr = screen.getByRole('img', { name: /^QR code to join/ });
  await expect(qr).toBeVisible();
  const code = (await page.locator('.toolbar .code-chip strong').textContent())!.trim();
  const digits = screen.locator('.projection-code');
  await expect(digits).toHaveText(code);

  // Sized for the back of a room.
  const viewport = screen.viewportSize()!;
  const box = (await qr.boundingBox())!;
  if (viewport.width >= viewport.height) {
    expect(box.height).toBeGreaterThanOrEqual(viewport.height * 0.6);
  } else {
    // A portrait screen is narrower than 60% of its height: the QR code takes the width.
    expect(box.width).toBeGreaterThanOrEqual(viewport.width * 0.9);
  }
  expect(box.y + box.height).toBeLessThanOrEqual(viewport.height);
  expect(box.x + box.width).toBeLessThanOrEqual(viewport.width);
  const fontSize = await digits.evaluate((e) => parseFloat(getComputedStyle(e).fontSize));
  expect(fontSize).toBeGreaterThanOrEqual(viewport.width * 0.08);
  const digitsBox = (await digits.boundingBox())!;
  expect(digitsBox.x + digitsBox.width).toBeLessThanOrEqual(viewport.width);
  const linkBox = (await screen.locator('.projection-link').boundingBox())!;
  expect(linkBox.y).toBeGreaterThanOrEqual(Math.max(box.y + box.height, digitsBox.y + digitsBox.height) - 1);

  // Its QR code leads into the session.
  let link = '';
  await expect.poll(async () => (link = await qrLink(screen))).not.toBe('');
  expect(link).toMatch(/\/j\/[0-9A-Za-z_-]{22}$/);
  await expect(screen.locator('.projection-link')).toHaveText(link);
  const phone = await (await newParticipant(browser)).newPage();
  await phone.goto(link);
  await expect(phone).toHaveURL(new RegExp(`/p/${path.split('/').pop()}$`));
  await expect(phone.locator('.ways-in .code strong')).toHaveText(code);

  // A new code: the digits and the QR code change together.
  await page.getByRole('button', { name: 'Generate a new code' }).click();
  await page.getByRole('alertdialog', { name: 'Generate a new code?' }).getByRole('button', { name: 'Generate a new code' }).click();
  await expect(digits).not.toHaveText(code);
  const newCode = (await digits.textContent())!.trim();
  await expect(page.locator('.toolbar .code-chip strong')).toHaveText(newCode);
  let newLink = '';
  await expect.poll(async () => { newLink = await qrLink(screen); return newLink !== '' && newLink !== link; }).toBe(true);
  expect(newLink).toMatch(/\/j\/[0-9A-Za-z_-]{22}$/);
  await expect(screen.locator('.projection-link')).toHaveText(newLink);
  const late = await (await newParticipant(browser)).newPage();
  await late.goto(newLink);
  await expect(late.locator('.ways-in .code strong')).toHaveText(newCode);

  // Closed: in large type; reopened: the slide is back.
  await page.getByRole('button', { name: 'Session open' }).click();
  const closed = screen.getByText('This session is closed.');
  await expect(closed).toBeVisible();
  await expect(qr).toBeHidden();
  const closedSize = await closed.evaluate((e) => parseFloat(getComputedStyle(e).fontSize));
  expect(closedSize).toBeGreaterThanOrEqual(viewport.width * 0.05);
  await page.getByRole('button', { name: 'Session closed' }).click();
  await expect(digits).toHaveText(newCode);

  // Another slide shown: the screen shows it alone.
  await page.getByRole('button', { name: 'Title and text' }).click();
  const textSlide = page.getByRole('listitem', { name: 'Slide 2: New slide' });
  await textSlide.getByRole('button', { name: 'Show to participants' }).click();
  await expect(screen.getByRole('heading', { name: 'New slide' })).toBeVisible();
  await expect(qr).toBeHidden();

  expect(await screen.evaluate(() => (window as any).__rucheNoReload === true), 'the screen was reloaded').toBe(true);
  expect([...errors, ...screenErrors]).toEqual([]);
  await phone.context().close();
  await late.context().close();
});

test('"Full screen" and the F key switch the projection screen to full screen and back', async ({ page }) => {
  await signUp(page, 'fullscreen');
  await createSession(page, 'Keynote');
  await hydrated(page);
  const screen = await openScreen(page);
  const isFull = () => screen.evaluate(() => document.fullscreenElement !== null);
  await screen.getByRole('button', { name: 'Full screen' }).click();
  await expect.poll(isFull).toBe(true);
  await expect(screen.getByRole('button', { name: 'Exit full screen' })).toBeVisible();
  await screen.keyboard.press('f');
  await expect.poll(isFull).toBe(false);
  await expect(screen.getByRole('button', { name: 'Full screen' })).toBeVisible();
  await screen.keyboard.press('F');
  await expect.poll(isFull).toBe(true);
});

test('only hosts see the projection screen', async ({ page, browser }) => {
  await signUp(page, 'owner');
  const path = await createSession(page, 'Private board');
  const stranger = await (await newParticipant(browser)).newPage();
  await signUp(stranger, 'stranger');
  await stranger.goto(`${path}/screen`);
  await expect(stranger.getByRole('alert')).toHaveText("You don't have access to this session.");
  await expect(stranger.getByRole('heading', { name: 'Private board' })).toHaveCount(0);
  await stranger.context().clearCookies();
  await stranger.goto(`${path}/screen`);
  await expect(stranger).toHaveURL(/\/login\?next=/);
  await stranger.context().close();
});
