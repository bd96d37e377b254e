import { test, expect, type BrowserContext, type Response } from '@playwright/test';
import { baseURL, createSession, fakeClientIp, hydrated, logIn, openShare, signUp, watchConsole } from './helpers';

// The Content-Security-Policy allows only Ruche's own files, its inline scripts by nonce and its
// wasm: every page must still hydrate and work under it, without a single violation.

/** Collects every CSP violation of every document the context's pages (and pop-ups) load, from
 * their first script on. */
async function watchPolicy(context: BrowserContext): Promise<string[]> {
  const violations: string[] = [];
  await context.exposeFunction('__rucheCspViolation', (v: string) => violations.push(v));
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window as any).__rucheCspViolation(`${e.violatedDirective} blocked ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  return violations;
}

function expectPolicy(response: Response | null) {
  const headers = response!.headers();
  expect(headers['content-security-policy']).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9_-]{16,}' 'wasm-unsafe-eval'/);
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['referrer-policy']).toBe('same-origin');
}

test('every page hydrates and works under the Content-Security-Policy', async ({ page, browser }) => {
  test.setTimeout(120_000);
  const violations = await watchPolicy(page.context());
  const errors = watchConsole(page);

  expectPolicy(await page.goto('/'));
  await hydrated(page);
  await expect(page.getByLabel('Session code')).toBeVisible();

  // Sign-up, "My sessions", a host page: each a hydrated form posted to a server function.
  const email = await signUp(page, 'csp');
  const path = await createSession(page, 'Under the policy');
  await hydrated(page);
  const dialog = await openShare(page);
  await expect(dialog.getByLabel('Public link')).toHaveValue(/\/j\/[0-9A-Za-z_-]{22}$/);
  const code = (await dialog.getByText(/^\d{3} \d{3}$/).textContent())!;
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  // The QR code slide shows an image from Ruche itself.
  await page.getByRole('group', { name: 'Add a slide' }).getByRole('button', { name: 'Link and QR code' }).click();
  const qr = page.getByRole('img', { name: /^QR code to join this session/ }).first();
  await expect.poll(() => qr.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth > 0)).toBe(true);

  // The projection screen, in a window of its own.
  const [screen] = await Promise.all([
    page.context().waitForEvent('page'),
    page.getByRole('link', { name: 'Projection screen' }).click(),
  ]);
  const screenErrors = watchConsole(screen);
  await hydrated(screen);
  const screenQr = screen.getByRole('img', { name: /^QR code to join/ });
  await expect.poll(() => screenQr.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth > 0)).toBe(true);
  await screen.close();

  // A participant joins by code; the live socket is allowed (connect-src 'self').
  const context = await browser.newContext({ ...test.info().project.use, extraHTTPHeaders: { 'X-Forwarded-For': fakeClientIp() } });
  const phoneViolations = await watchPolicy(context);
  const phone = await context.newPage();
  const phoneErrors = watchConsole(phone);
  expectPolicy(await phone.goto('/'));
  await hydrated(phone);
  await phone.getByLabel('Session code').fill(code);
  await phone.getByRole('button', { name: 'Join' }).click();
  await expect(phone).toHaveURL(/\/p\/[0-9a-f-]{36}$/);
  await hydrated(phone);
  await expect(phone.getByRole('heading', { name: 'Under the policy' })).toBeVisible();
  await expect(page.getByText('1 participant connected')).toBeVisible();
  await phone.getByLabel('Nickname (optional)').fill('Zoé');
  await phone.getByRole('button', { name: 'Save nickname' }).click();
  await expect(phone.getByText('You appear as Zoé.')).toBeVisible();
  await page.getByRole('button', { name: 'Session open' }).click();
  await expect(phone.getByRole('heading', { name: 'This session is closed.' })).toBeVisible();
  await context.close();

  // My account.
  expectPolicy(await page.goto('/account'));
  await hydrated(page);
  await page.getByLabel('Your name').fill('Renamed under the policy');
  await page.getByRole('button', { name: 'Save my name' }).click();
  await expect(page.getByText('Your name is saved.')).toBeVisible();

  // Log out (from "My sessions"), then log in again on the log-in page.
  expectPolicy(await page.goto('/sessions'));
  await hydrated(page);
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page.getByRole('link', { name: 'Log in' })).toBeVisible();
  expectPolicy(await page.goto('/login'));
  await hydrated(page);
  await logIn(page, email);
  await expect(page).toHaveURL(/\/sessions$/);
  await expect(page.getByRole('link', { name: 'Under the policy' }).first()).toBeVisible();
  expectPolicy(await page.goto(path));
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'Under the policy' })).toBeVisible();

  expect(violations).toEqual([]);
  expect(phoneViolations).toEqual([]);
  expect(errors).toEqual([]);
  expect(screenErrors).toEqual([]);
  expect(phoneErrors).toEqual([]);
});

test('a form on another site cannot log a visitor in or out', async ({ page }) => {
  const email = await signUp(page, 'csrf');
  // Another site's page, as a browser loads it: its forms post to Ruche with its own Origin.
  const target = baseURL();
  await page.route('http://evil.test/**', (route) => route.fulfill({
    contentType: 'text/html',
    body: `<!DOCTYPE html><title>Win a prize</title>
      <form method="post" action="${target}/api/log_out"><button>Log out</button></form>
      <form method="post" action="${target}/api/log_in">
        <input type="hidden" name="email" value="${email}"><input type="hidden" name="password" value="x">
        <button>Log in</button></form>`,
  }));
  for (const form of ['Log out', 'Log in']) {
    await page.goto('http://evil.test/prize');
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().startsWith(`${target}/api/`)),
      page.getByRole('button', { name: form }).click(),
    ]);
    expect(response.status(), form).toBe(403);
    await expect(page.getByText('Ruche refused this request because it was sent from another site.')).toBeVisible();
  }
  await page.goto('/sessions');
  await expect(page.getByRole('heading', { name: 'My sessions' })).toBeVisible();
});
