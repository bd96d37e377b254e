import { test, expect } from '@playwright/test';
import { createSession, decodeQr, hydrated, newParticipant, signUp, watchConsole } from './helpers';

test('the QR code fills the screen, decodes to the public link, and Esc closes it', async ({ page, browser }) => {
  const errors = watchConsole(page);
  await signUp(page, 'presenter');
  await createSession(page, 'All hands');
  await hydrated(page);
  // Ready: the tools are marked hydrated (until then they look, and are, not clickable).
  await expect(page.locator('.host-island')).toHaveAttribute('data-hydrated', '');
  const code = (await page.locator('.code-chip strong').textContent())!.trim();

  await page.getByRole('button', { name: 'QR code', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'QR code' });
  await expect(dialog).toBeVisible();
  const image = dialog.getByRole('img', { name: /^QR code/ });
  await expect(dialog.getByText(code)).toBeVisible();
  const box = await image.boundingBox();
  const viewport = page.viewportSize()!;
  expect(box!.width).toBeGreaterThan(Math.min(viewport.width, viewport.height) * 0.6);
  const link = decodeQr(await image.screenshot());
  expect(link).toMatch(/\/j\/[0-9A-Za-z_-]{22}$/);
  await expect(dialog.getByText(link)).toBeVisible();
  await expect(dialog.getByRole('link', { name: 'Download SVG' })).toHaveAttribute('href', /qr\.svg$/);
  await expect(dialog.getByRole('link', { name: 'Download PNG' })).toHaveAttribute('href', /qr\.png$/);

  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();

  const participant = await (await newParticipant(browser)).newPage();
  await participant.goto(link);
  await expect(participant.getByRole('heading', { name: 'All hands' })).toBeVisible();
  expect(errors).toEqual([]);
});

test('"Generate a new code" warns first, then replaces the code and the link', async ({ page }) => {
  await signUp(page, 'rotator');
  await createSession(page, 'Rotating');
  await hydrated(page);
  const chip = page.locator('.code-chip strong');
  const before = (await chip.textContent())!.trim();

  await page.getByRole('button', { name: 'Generate a new code' }).click();
  const confirm = page.getByRole('alertdialog', { name: 'Generate a new code?' });
  await expect(confirm).toContainText('links already sent will no longer work');
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(confirm).toBeHidden();
  await expect(chip).toHaveText(before);

  await page.getByRole('button', { name: 'Generate a new code' }).click();
  await confirm.getByRole('button', { name: 'Generate a new code' }).click();
  await expect(chip).not.toHaveText(before);
  await expect(chip).toHaveText(/^\d{3} \d{3}$/);
});

test('hosts add, edit, reorder, show and delete slides; participants see the active one', async ({ page, browser }) => {
  await signUp(page, 'slides');
  await createSession(page, 'Slideshow');
  await hydrated(page);
  await page.getByRole('button', { name: 'Link and QR code' }).click();
  const qrSlide = page.getByRole('listitem', { name: 'Link and QR code' });
  await expect(qrSlide.getByRole('button', { name: 'Shown to participants' })).toBeVisible();

  await page.getByRole('button', { name: 'Title and text' }).click();
  const textSlide = page.getByRole('listitem', { name: 'Slide 2: New slide' });
  await expect(textSlide).toBeVisible();
  await textSlide.getByText('Edit').click();
  await textSlide.getByLabel('Slide title').fill('Welcome');
  await textSlide.getByLabel('Slide text').fill('Hello everyone');
  await textSlide.getByRole('button', { name: 'Save' }).click();
  const welcome = page.getByRole('listitem', { name: 'Slide 2: Welcome' });
  await expect(welcome.getByRole('heading', { name: 'Welcome' })).toBeVisible();

  await welcome.getByRole('button', { name: 'Move up: Slide 2: Welcome' }).click();
  await expect(page.getByRole('listitem').first()).toHaveAccessibleName('Slide 1: Welcome');
  await page.getByRole('listitem', { name: 'Slide 1: Welcome' }).getByRole('button', { name: 'Show to participants' }).click();
  await expect(page.getByRole('listitem', { name: 'Slide 1: Welcome' }).getByRole('button', { name: 'Shown to participants' })).toBeVisible();

  const link = (await page.locator('.slide-item .ways-in .link').first().textContent())!.trim();
  const participant = await (await newParticipant(browser)).newPage();
  await participant.goto(link);
  await expect(participant.getByRole('heading', { name: 'Welcome' })).toBeVisible();
  await expect(participant.getByText('Hello everyone')).toBeVisible();

  await page.getByRole('button', { name: 'Delete: Link and QR code' }).click();
  await expect(page.getByRole('listitem', { name: 'Link and QR code' })).toHaveCount(0);
  await expect(page.getByRole('listitem')).toHaveCount(1);
});
