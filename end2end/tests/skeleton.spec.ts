import { test, expect, hydrated } from './fixtures';

test.describe('a wrong password', () => {
  // The refusal is a 422, which Chromium logs.
  test.use({ consoleAllow: [/status of 422/] });

  test('is answered in the page by a server function, without navigation', async ({ page }) => {
    await page.goto('/');
    await hydrated(page);
    // A marker that a full page load would wipe out.
    await page.evaluate(() => ((window as any).__noReload = true));
    await page.getByLabel('Email').fill('trial@demo.test');
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert')).toContainText('The email or password is incorrect.');
    expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
  });
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the first response holds the sign-in form and the help', async ({ page, request }) => {
    const raw = await (await request.get('/')).text();
    expect(raw).toContain('name="password"');
    await page.goto('/');
    await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
    await expect(page.getByRole('link', { name: /^Help: / })).toBeVisible();
  });

  test('the form still works as a plain HTML form', async ({ page }) => {
    await page.goto('/');
    await page.getByLabel('Email').fill('trial@demo.test');
    await page.getByLabel('Password').fill('billing-demo');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('heading', { name: 'My Account' })).toBeVisible();
  });
});

test.describe('missing pages', () => {
  test.use({ consoleAllow: [/status of 404/] });

  test('unknown pages answer 404 with a page', async ({ page }) => {
  const res = await page.goto('/no/such/page');
  expect(res?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
});
});
