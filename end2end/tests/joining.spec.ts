import { test, expect, type Page } from '@playwright/test';
import { decodeQr, fakeClientIp, hostSession, hydrated, jsEnabled, newParticipant, refreshWaysIn, watchConsole } from './helpers';

const participantPath = (id: string) => new RegExp(`/p/${id}$`);
/** Where a page opened from the public link is: the link answers with the participant page
 * itself, whose island then shows `/p/<id>`; without JavaScript the page stays at the link. */
const pageOfLink = (session: { id: string }, link: string) => (jsEnabled() ? participantPath(session.id) : link);

async function joinWithBanner(page: Page, code: string) {
  await page.goto('/');
  await hydrated(page);
  const field = page.getByLabel('Session code');
  await expect(field).toHaveAttribute('inputmode', 'numeric');
  await field.fill(code);
  await page.getByRole('button', { name: 'Join' }).click();
}

test('joins by the code typed with a space, and sets a nickname @nojs', async ({ browser }) => {
  const session = await hostSession('Biology 101');
  const context = await newParticipant(browser);
  const page = await context.newPage();
  const errors = watchConsole(page);
  expect(session.code).toMatch(/^\d{3} \d{3}$/);
  await joinWithBanner(page, session.code);
  await expect(page).toHaveURL(participantPath(session.id));
  await expect(page.getByRole('heading', { name: 'Biology 101' })).toBeVisible();
  await expect(page.getByText('The host has not shown a slide yet.')).toBeVisible();
  await expect(page.getByRole('button', { name: /Session (open|closed)/ })).toHaveCount(0);

  await hydrated(page);
  // Refused, with the rule's sentence: from the server function's answer with JavaScript, from
  // the address the server sends the browser back to without.
  await page.getByLabel('Nickname (optional)').fill('Zo\u0007é');
  await page.getByRole('button', { name: 'Save nickname' }).click();
  await expect(page.getByRole('alert')).toHaveText('A nickname has at most 40 characters.');
  await page.getByLabel('Nickname (optional)').fill('Zoé');
  await page.getByRole('button', { name: 'Save nickname' }).click();
  await expect(page.getByText('You appear as Zoé.')).toBeVisible();
  await expect(page.getByRole('alert')).toHaveCount(0);
  // Phones: readable at 360 px, and thumb-sized controls.
  for (const name of ['Save nickname']) {
    const box = await page.getByRole('button', { name }).boundingBox();
    expect(box!.height).toBeGreaterThanOrEqual(44);
  }
  expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth).catch(() => true)).toBe(true);
  // Chromium logs the refused nickname's answer (400) itself; nothing else may fail.
  expect(errors).toEqual(jsEnabled() ? ['Failed to load resource: the server responded with a status of 400 (Bad Request)'] : []);
  await context.close();
});

test('joins by the public link, and by a code written with a dash @nojs', async ({ browser }) => {
  const session = await hostSession('Team retro');
  const context = await newParticipant(browser);
  const page = await context.newPage();
  expect(session.link).toMatch(/^http:\/\/127\.0\.0\.1:3000\/j\/[0-9A-Za-z_-]{22}$/);
  await page.goto(session.link);
  await expect(page).toHaveURL(pageOfLink(session, session.link));
  await expect(page.getByRole('heading', { name: 'Team retro' })).toBeVisible();

  const other = await (await newParticipant(browser)).newPage();
  await joinWithBanner(other, session.code.replace(' ', '-'));
  await expect(other).toHaveURL(participantPath(session.id));
  await context.close();
});

test('joins by the QR code of the "Link and QR code" slide, decoded by a real reader @nojs', async ({ browser }) => {
  const session = await hostSession('Keynote');
  await session.call('add_slide', { id: session.id, kind: 'LinkAndQr' });
  const first = await (await newParticipant(browser)).newPage();
  await first.goto(session.link);
  const qr = first.getByRole('img', { name: /^QR code/ });
  await expect(qr).toBeVisible();
  await expect(first.getByText(session.code)).toBeVisible();
  const url = decodeQr(await qr.screenshot());
  expect(url).toBe(session.link);

  const second = await (await newParticipant(browser)).newPage();
  await second.goto(url);
  await expect(second).toHaveURL(pageOfLink(session, url));
  await expect(second.getByRole('heading', { name: 'Keynote' })).toBeVisible();
  // The PNG download decodes to the same link.
  const png = await (await second.request.get(session.qrPng)).body();
  expect(decodeQr(png)).toBe(session.link);
});

test('after a new code, the old code and link are refused, the new ones work, and people inside stay @nojs', async ({ browser }) => {
  const session = await hostSession('Workshop');
  const insideContext = await newParticipant(browser);
  const inside = await insideContext.newPage();
  await joinWithBanner(inside, session.code);
  await expect(inside).toHaveURL(participantPath(session.id));

  const old = { code: session.code, link: session.link };
  await session.call('generate_new_code', { id: session.id });
  await refreshWaysIn(session);
  expect(session.code).not.toBe(old.code);

  await inside.reload();
  await expect(inside.getByRole('heading', { name: 'Workshop' })).toBeVisible();

  const late = await (await newParticipant(browser)).newPage();
  const retired = 'This code is no longer valid. Ask the host for the new one.';
  let response = await late.goto(`/join?code=${encodeURIComponent(old.code)}`);
  expect(response?.status()).toBe(410);
  await expect(late.getByRole('alert')).toHaveText(retired);
  response = await late.goto(old.link);
  expect(response?.status()).toBe(410);
  await expect(late.getByRole('alert')).toHaveText(retired);

  await joinWithBanner(late, session.code);
  await expect(late).toHaveURL(participantPath(session.id));
  const fresh = await (await newParticipant(browser)).newPage();
  await fresh.goto(session.link);
  await expect(fresh).toHaveURL(pageOfLink(session, session.link));

  // Someone who came in by the old link stays in too: without JavaScript their page is at that
  // link, which still brings them (and only them) back.
  await session.call('generate_new_code', { id: session.id });
  await refreshWaysIn(session);
  await fresh.reload();
  await expect(fresh.getByRole('heading', { name: 'Workshop' })).toBeVisible();
  await insideContext.close();
});

test('a closed session lets nobody in; once reopened, joining works again @nojs', async ({ browser }) => {
  const session = await hostSession('Closed class');
  const inside = await (await newParticipant(browser)).newPage();
  await inside.goto(session.link);
  await expect(inside).toHaveURL(pageOfLink(session, session.link));
  await session.call('set_session_open', { id: session.id, open: 'false' });

  const page = await (await newParticipant(browser)).newPage();
  await joinWithBanner(page, session.code);
  await expect(page.getByRole('alert')).toHaveText('This session is closed.');
  await expect(page.getByText('Closed class')).toHaveCount(0);
  const response = await page.goto(session.link);
  expect(response?.status()).toBe(403);
  await expect(page.getByRole('alert')).toHaveText('This session is closed.');
  await inside.reload();
  await expect(inside.getByRole('heading', { name: 'This session is closed.' })).toBeVisible();

  await session.call('set_session_open', { id: session.id, open: 'true' });
  await joinWithBanner(page, session.code);
  await expect(page).toHaveURL(participantPath(session.id));
  await inside.reload();
  await expect(inside.getByRole('heading', { name: 'Closed class' })).toBeVisible();
});

test('a browser that keeps getting codes wrong is slowed after 10, while the room beside it gets in @nojs', async ({ browser }) => {
  const session = await hostSession('Busy room');
  const room = fakeClientIp();
  const page = await (await newParticipant(browser, room)).newPage();
  const unknown = 'No session has this code. Check the code and try again.';
  // Codes with a digit pattern no random draw is likely to hold right now; each is checked.
  let failures = 0;
  for (let i = 0; failures < 10; i++) {
    const code = String(900000 + i * 7919 % 100000).padStart(6, '0');
    if (code === session.code.replace(' ', '')) continue;
    const response = await page.goto(`/join?code=${code}`);
    if (response?.status() === 404) {
      failures++;
      await expect(page.getByRole('alert')).toHaveText(unknown);
    }
  }
  const response = await page.goto('/join?code=000 000');
  expect(response?.status()).toBe(429);
  await expect(page.getByRole('alert')).toHaveText(/^Too many attempts\. Try again in \d+ seconds\.$/);
  await page.goto('/join?code=12');
  // A malformed code is answered without a lookup, even while slowed.
  await expect(page.getByRole('alert')).toHaveText('A session code has 6 digits, like 123 456.');
  // The public link cannot be guessed: it always goes in.
  await page.goto(session.link);
  await expect(page).toHaveURL(pageOfLink(session, session.link));

  // Someone else behind the same address types the right code and gets in.
  const neighbour = await (await newParticipant(browser, room)).newPage();
  await joinWithBanner(neighbour, session.code);
  await expect(neighbour).toHaveURL(participantPath(session.id));
});

test('the participant view reads on a 360 px phone, with thumb-sized controls @nojs', async ({ browser }) => {
  const session = await hostSession('A session title long enough to need wrapping on a small phone');
  await session.call('add_slide', { id: session.id, kind: 'LinkAndQr' });
  const context = await newParticipant(browser);
  const page = await context.newPage();
  await page.setViewportSize({ width: 360, height: 640 });
  await page.goto('/');
  for (const name of ['Join']) {
    expect((await page.getByRole('button', { name }).boundingBox())!.height).toBeGreaterThanOrEqual(44);
  }
  await page.goto(session.link);
  await expect(page.getByRole('img', { name: /^QR code/ })).toBeVisible();
  const widths = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]).catch(() => null);
  if (widths) expect(widths[0]).toBeLessThanOrEqual(widths[1]);
  const box = (await page.getByRole('img', { name: /^QR code/ }).boundingBox())!;
  expect(box.x).toBeGreaterThanOrEqual(0);
  expect(box.x + box.width).toBeLessThanOrEqual(360);
  for (const name of ['Save nickname']) {
    expect((await page.getByRole('button', { name }).boundingBox())!.height).toBeGreaterThanOrEqual(44);
  }
  await context.close();
});
