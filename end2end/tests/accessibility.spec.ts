import { expect, test } from '@playwright/test';
import { createSession, fakeClientIp, hostSession, hydrated, jsEnabled, noSeriousAccessibilityIssue, openShare, signUp } from './helpers';

// axe finds nothing serious or critical on the main pages, as a participant and as a host sees
// them (in French: french.spec.ts).
test('the main pages have no serious accessibility issue @nojs', async ({ page }) => {
  await page.context().setExtraHTTPHeaders({ 'X-Forwarded-For': fakeClientIp() });
  await page.goto('/');
  await hydrated(page);
  await noSeriousAccessibilityIssue(page);

  await page.getByLabel('Session code').fill('000 000');
  await page.getByRole('button', { name: 'Join' }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  await noSeriousAccessibilityIssue(page);

  const session = await hostSession('Accessible session');
  await page.getByLabel('Session code').fill(session.code);
  await page.getByRole('button', { name: 'Join' }).click();
  await expect(page.getByRole('heading', { name: 'Accessible session' })).toBeVisible();
  await hydrated(page);
  await page.getByLabel('Your nickname').fill('Ada');
  await page.getByLabel('Your message').fill('Can everyone read this?');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.getByRole('listitem').filter({ hasText: 'Can everyone read this?' })).toBeVisible();
  await noSeriousAccessibilityIssue(page);

  await page.goto('/login');
  await noSeriousAccessibilityIssue(page);
  await signUp(page, 'axe');
  await noSeriousAccessibilityIssue(page);
  await createSession(page, 'Checked by axe');
  await noSeriousAccessibilityIssue(page);
  if (jsEnabled()) {
    await hydrated(page);
    await openShare(page);
    await noSeriousAccessibilityIssue(page);
  }
  await page.goto('/account');
  await expect(page.getByRole('heading', { name: 'My account' })).toBeVisible();
  await noSeriousAccessibilityIssue(page);
});
