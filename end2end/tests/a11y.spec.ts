import AxeBuilder from '@axe-core/playwright';
import { Page } from '@playwright/test';
import { test, expect, hydrated } from './fixtures';
import { signIn, goToBilling } from './helpers';
import { french, tr } from './lang';

// axe on every page, in English (desktop project) and in French (french
// project): no serious or critical violation of WCAG 2.1 A/AA. Runs before
// the flows of its project and changes nothing.
async function check(page: Page, what: string) {
  await hydrated(page);
  await expect(page.locator('html')).toHaveAttribute('lang', french() ? 'fr' : 'en');
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  const bad = results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(bad, `${what}: accessibility violations`).toEqual([]);
}

test('anonymous pages', async ({ page }) => {
  const token = 'ab'.repeat(32);
  for (const path of ['/', '/login', '/login?link=expired', '/password/forgot', '/password/forgot?sent=1', `/password/reset/${token}`, `/invitation/${token}`, '/help', '/help/reactivate', '/help/payments-faq']) {
    await page.goto(path);
    await check(page, path);
  }
});

test.describe('missing page', () => {
  test.use({ consoleAllow: [/status of 404/] });
  test('404', async ({ page }) => {
    await page.goto('/no-such-page');
    await check(page, '404');
  });
});

test.describe('an online account', () => {
  // Its cart is empty: the order page answers 422 (nothing to order).
  test.use({ consoleAllow: [/status of 422/] });
  test('every billing page', async ({ page }) => {
  await signIn(page, 'active@demo.test');
  await check(page, 'my account');
  await goToBilling(page);
  await check(page, 'subscriptions');
  await page.locator('article.card[data-product="meeting"]').getByRole('link', { name: tr('Modify') }).click();
  await check(page, 'plan editor');
  for (const path of ['/billing/cart', '/billing/invoices', '/billing/payment', '/billing/checkout']) {
    await page.goto(path);
    await check(page, path);
  }
  });
});

test('the pending-cancellation dialog', async ({ page }) => {
  await signIn(page, 'pending@demo.test');
  await goToBilling(page);
  await page.getByRole('button', { name: tr('Remove pending cancellation') }).click();
  await expect(page.getByRole('dialog')).toBeVisible();
  await check(page, 'dialog');
});

test('a corporate account and its portal', async ({ page }) => {
  await signIn(page, 'corporate@demo.test');
  await goToBilling(page);
  await check(page, 'corporate subscriptions');
  for (const path of ['/billing/support', '/billing/portal', '/billing/invoices']) {
    await page.goto(path);
    await check(page, path);
  }
  await page.locator('table.invoices tbody a').first().click();
  await check(page, 'invoice');
});

test.describe('not the billing contact', () => {
  test.use({ consoleAllow: [/status of 403/] });
  test('the notice', async ({ page }) => {
    await signIn(page, 'member@demo.test');
    await page.goto('/billing');
    await check(page, 'member');
  });
});
