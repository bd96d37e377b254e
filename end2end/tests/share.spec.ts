import { test, expect } from '@playwright/test';
import { createSession, hydrated, inviteFacilitator, linkFromMail, newParticipant, openShare, PASSWORD, signUp, uniqueEmail, verifyFromMail, watchConsole } from './helpers';

test('Share: the link copies to the clipboard, focus stays inside, Esc closes', async ({ page }) => {
  const errors = watchConsole(page);
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  await signUp(page, 'sharer');
  await createSession(page, 'Shared talk');
  await hydrated(page);
  await page.getByRole('button', { name: 'Share', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Share' });
  await expect(dialog).toBeVisible();
  const field = dialog.getByLabel('Public link');
  await expect(field).toHaveAttribute('readonly', '');
  const link = await field.inputValue();
  expect(link).toMatch(/^http:\/\/127\.0\.0\.1:3000\/j\/[0-9A-Za-z_-]{22}$/);
  await dialog.getByRole('button', { name: 'Copy' }).click();
  await expect(dialog.getByRole('button', { name: 'Copied' })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(link);

  await expect(dialog.getByText(/^\d{3} \d{3}$/)).toBeVisible();
  for (let i = 0; i < 25; i++) {
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => !!document.activeElement?.closest('[role=dialog]'))).toBe(true);
  }
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  expect(errors).toEqual([]);
});

test('e-mail invitations: one mail per valid address, invalid ones listed, the mailed link joins', async ({ page, browser }) => {
  // Ruche mails strangers only for a proven address.
  await verifyFromMail(page, await signUp(page, 'inviter'));
  await createSession(page, 'Invited class');
  await hydrated(page);
  await page.getByRole('button', { name: 'Share', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Share' });
  const zoe = uniqueEmail('zoe');
  const max = uniqueEmail('max');
  await dialog.getByLabel('E-mail addresses, separated by commas').fill(`${zoe}, not-an-address; ${max}\n${zoe}`);
  await dialog.getByRole('button', { name: 'Send invitations' }).click();
  const report = dialog.getByRole('status');
  await expect(report).toContainText('Invitation sent to 2 participants');
  await expect(report.getByRole('listitem')).toHaveText(['not-an-address']);

  const link = await linkFromMail(zoe, 'j');
  expect(link).toBe(await dialog.getByLabel('Public link').inputValue());
  expect(await linkFromMail(max, 'j')).toBe(link);
  const participant = await (await newParticipant(browser)).newPage();
  await participant.goto(link);
  await expect(participant.getByRole('heading', { name: 'Invited class' })).toBeVisible();
});

test('a co-facilitator accepts with a second account, co-hosts, and cannot close the session', async ({ page, browser }) => {
  await verifyFromMail(page, await signUp(page, 'owner'));
  const path = await createSession(page, 'Co-hosted');
  await hydrated(page);
  const dialog = await openShare(page);
  const carol = await inviteFacilitator(dialog);
  await expect(dialog.getByRole('status')).toContainText('Invitation sent to 1 co-facilitator');
  await expect(dialog.getByRole('listitem').filter({ hasText: carol })).toContainText('Invited');

  // Carol has no account yet: the link leads through sign-up and back.
  const link = await linkFromMail(carol, 'facilitate');
  const context = await browser.newContext({ ...test.info().project.use });
  const other = await context.newPage();
  await other.goto(link);
  await expect(other).toHaveURL(/\/login\?next=/);
  await hydrated(other);
  await other.getByRole('link', { name: 'Create an account' }).click();
  await expect(other).toHaveURL(/\/signup\?next=/);
  await hydrated(other);
  await other.getByLabel('E-mail').fill(carol);
  await other.getByLabel('Your name').fill('Carol');
  await other.getByLabel('Password').fill(PASSWORD);
  await other.getByRole('button', { name: 'Sign up' }).click();
  await expect(other).toHaveURL(new RegExp(`${path}$`));
  await expect(other.getByRole('heading', { name: 'Co-hosted' })).toBeVisible();
  await expect(other.getByRole('button', { name: 'Session open' })).toBeDisabled();

  await hydrated(other);
  await other.getByRole('button', { name: 'Share', exact: true }).click();
  const theirs = other.getByRole('dialog', { name: 'Share' });
  await expect(theirs.getByRole('switch', { name: 'Close session' })).toBeDisabled();
  await expect(theirs.getByText('Only the owner can open or close the session')).toBeVisible();
  await expect(theirs.getByRole('button', { name: '+Add' })).toHaveCount(0);
  await expect(theirs.getByRole('button', { name: 'Generate a new code' })).toHaveCount(0);
  const id = path.split('/').pop()!;
  const refused = await other.request.post('/api/set_session_open', { form: { id, open: 'false' } });
  expect(refused.status()).toBe(403);

  await other.goto('/sessions');
  await expect(other.getByRole('listitem').filter({ hasText: 'Co-hosted' })).toContainText('Facilitator');
  // Accepting through the mailed link proved Carol's address: nothing waits for verification.
  await other.goto('/account');
  await expect(other.getByRole('heading', { name: 'My account' })).toBeVisible();
  await expect(other.getByRole('region', { name: 'E-mail verification' })).toHaveCount(0);

  // The owner sees Carol active, and closes the session from the switch.
  await page.reload();
  await hydrated(page);
  await page.getByRole('button', { name: 'Share', exact: true }).click();
  await expect(dialog.getByRole('listitem').filter({ hasText: carol })).toContainText('Active');
  await dialog.getByRole('switch', { name: 'Close session' }).click();
  await expect(page.getByRole('switch', { name: 'Close session' })).toHaveAttribute('aria-checked', 'true');
  await expect(page.getByRole('button', { name: 'Session closed' })).toBeVisible();
  await context.close();
});
