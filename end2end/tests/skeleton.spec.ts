import { test, expect, hydrated } from './fixtures';

test('a click calls a server function and updates the page without navigation', async ({ page }) => {
  await page.goto('/');
  await hydrated(page);
  const counter = page.getByTestId('trials-meeting');
  const before = Number((await counter.innerText()).split(' ')[0]);
  // A marker that a full page load would wipe out.
  await page.evaluate(() => ((window as any).__noReload = true));
  await page.getByRole('button', { name: 'Start free trial of GoToMeeting' }).click();
  await expect(counter).toHaveText(new RegExp(`^${before + 1} trial\\(s\\) started$`));
  expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the first response holds the server-rendered products', async ({ page, request }) => {
    const raw = await (await request.get('/')).text();
    expect(raw).toContain('GoToWebinar');
    expect(raw).toContain('€59.00');
    await page.goto('/');
    await expect(page.getByRole('heading', { name: 'GoToTraining' })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Start free trial of GoToWebinar' })).toBeVisible();
  });

  test('the form still works as a plain HTML form', async ({ page }) => {
    await page.goto('/');
    const counter = page.getByTestId('trials-training');
    const before = Number((await counter.innerText()).split(' ')[0]);
    await page.getByRole('button', { name: 'Start free trial of GoToTraining' }).click();
    await expect(page.getByTestId('trials-training')).toHaveText(new RegExp(`^${before + 1} trial\\(s\\) started$`));
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
