import { test, expect } from '@playwright/test';
import { fakeClientIp, hydrated, PASSWORD, uniqueEmail } from './helpers';
import { caller, OwnServer } from './server';

test('a participant tab reconnects after a server restart and catches up', async ({ browser }) => {
  test.setTimeout(90_000);
  const server = await OwnServer.start('ruche-restart-');
  try {
    const { api, call } = await caller(server.base, fakeClientIp());
    await call('sign_up', { email: uniqueEmail('host'), display_name: 'Host', password: PASSWORD });
    const id: string = await call('create_session', { title: 'Through a restart' });
    const code: string = (await call('host_session', { id })).state.ways_in.code;

    const context = await browser.newContext({ ...test.info().project.use, baseURL: server.base });
    const page = await context.newPage();
    await page.goto(`/join?code=${encodeURIComponent(code)}`);
    await hydrated(page);
    await page.evaluate(() => { (window as any).__rucheNoReload = true; });
    await expect(page.getByRole('heading', { name: 'Through a restart' })).toBeVisible();

    await server.stop();
    await expect(page.getByText('Connection lost. Reconnecting…')).toBeVisible();
    await server.restart();
    // The login survives the restart (it is stored), so the host closes the session.
    await call('set_session_open', { id, open: 'false' });
    await expect(page.getByRole('heading', { name: 'This session is closed.' })).toBeVisible({ timeout: 20_000 });
    await expect(page.getByText('Connection lost. Reconnecting…')).toHaveCount(0);
    expect(await page.evaluate(() => (window as any).__rucheNoReload === true)).toBe(true);
    await context.close();
    await api.dispose();
  } finally {
    await server.discard();
  }
});
