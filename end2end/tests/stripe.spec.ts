import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Page } from '@playwright/test';
import { test, expect, hydrated } from './fixtures';
import { signIn, goToBilling, card } from './helpers';
import { databaseUrl, stripeEnv } from '../playwright.config';

// The `stripe` project: the server is configured for Stripe and talks to
// localstripe, whose Stripe.js the page loads. The card goes from the page
// to Stripe.js's Element and to localstripe, never to billing-center.

/** localstripe's card Element: plain inputs by placeholder. */
async function fillElement(page: Page, number: string) {
  const change = page.getByRole('button', { name: 'Change' });
  if (await change.count()) await change.click();
  const element = page.getByTestId('card-element');
  await expect(element.getByPlaceholder('number')).toBeVisible();
  await element.getByPlaceholder('number').fill(number);
  await element.getByPlaceholder('exp_month').fill('12');
  await element.getByPlaceholder('exp_year').fill('30');
  await element.getByPlaceholder('cvc').fill('123');
  await element.getByPlaceholder('postal_code').fill('75002');
}

/** `billing-center bill` on this project's database (SQLite or
 * PostgreSQL), `days` from now. */
function runBill(days: number): string {
  const root = path.resolve(__dirname, '..', '..');
  const bin = path.join(root, 'target', process.env.BC_PROFILE || 'debug', 'billing-center');
  const later = new Date(Date.now() + days * 86400_000).toISOString().slice(0, 10);
  return execFileSync(bin, ['bill', '--as-of', later], {
    cwd: root,
    env: { ...process.env, ...stripeEnv(), DATABASE_URL: databaseUrl(test.info().project.name), RUST_LOG: 'warn' },
  }).toString();
}

/** Stripe.js's 3-D Secure box: the customer confirms. */
async function authenticate(page: Page) {
  await page.getByRole('button', { name: 'Complete authentication' }).click();
}

async function toOrderPage(page: Page, email: string) {
  await signIn(page, email);
  await goToBilling(page);
  await card(page, 'webinar').getByRole('link', { name: /Subscribe now|Reactivate/ }).click();
  await hydrated(page);
  await page.getByRole('button', { name: 'Place order' }).click();
  await expect(page.getByRole('heading', { name: 'Review your order' })).toBeVisible();
  await hydrated(page);
}

test('save a card through Elements, subscribe, and the billing run renews off-session', async ({ page, baseURL }) => {
  const posted: string[] = [];
  page.on('request', (r) => {
    if (r.url().startsWith(baseURL!)) posted.push(r.postData() ?? '');
  });
  await toOrderPage(page, 'trial@demo.test');
  await fillElement(page, '4242424242424242');
  await page.getByRole('button', { name: 'Save card' }).click();
  await expect(page.getByTestId('payment-method')).toContainText('Visa •••• 4242');
  await page.getByRole('button', { name: 'Place order' }).click();
  await expect(page.getByTestId('invoice-number')).toBeVisible();
  // Nothing the page sent to billing-center carried the card number.
  expect(posted.filter((p) => p.includes('4242424242424242'))).toEqual([]);

  // A month and a few days later the billing run renews it off-session.
  expect(runBill(35)).toMatch(/billing run: [1-9]\d* renewed/);
  await page.goto('/billing/invoices');
  await expect(page.locator('table.invoices tbody tr')).toHaveCount(2);
});

test.describe('3-D Secure', () => {
  // Placing the order first answers 402 (authentication required).
  test.use({ consoleAllow: [/status of 402/] });
test('a card that asks for 3-D Secure is saved and the order completes after authentication', async ({ page }) => {
  await toOrderPage(page, 'trialover@demo.test');
  await fillElement(page, '4000002500003155');
  await page.getByRole('button', { name: 'Save card' }).click();
  await authenticate(page);
  await expect(page.getByTestId('payment-method')).toContainText('3155');
  // The charge asks for authentication too: the page hands it to Stripe.js.
  await page.getByRole('button', { name: 'Place order' }).click();
  await authenticate(page);
  await expect(page.getByTestId('invoice-number')).toBeVisible();
  await page.goto('/billing/invoices');
  await expect(page.locator('table.invoices tbody tr')).toHaveCount(1);

  // Its renewal asks for authentication again: the run leaves it past due
  // and emails a link to the page that asks the customer.
  runBill(35);
  await page.goto('/billing/mailbox');
  const mail = page.getByText(/\/billing\/authenticate\/pi_\w+/).first();
  await expect(mail).toBeVisible();
  const link = (await mail.innerText()).match(/\/billing\/authenticate\/pi_\w+/)![0];
  await page.goto(link);
  await hydrated(page);
  await page.getByRole('button', { name: 'Confirm with your bank' }).click();
  await authenticate(page);
  await expect(page.getByTestId('payment-authenticated')).toBeVisible();
  // The renewal is charged again under the same reference at once (and the
  // run's retry a day later would be too): the payment found made, one
  // renewal invoice, not two.
  runBill(36);
  await page.goto('/billing/invoices');
  await expect(page.locator('table.invoices tbody tr')).toHaveCount(2);
});
});

test.describe('declines', () => {
  test.use({ consoleAllow: [/status of 402/] });
test('a declined card is refused and leaves no invoice', async ({ page }) => {
  await toOrderPage(page, 'expired@demo.test');
  const before = await page.getByTestId('payment-method').innerText();
  const orderPage = page.url();
  await page.goto('/billing/invoices');
  const invoices = await page.locator('table.invoices tbody tr').count();
  await page.goto(orderPage);
  await hydrated(page);
  await fillElement(page, '4000000000000002');
  await page.getByRole('button', { name: 'Save card' }).click();
  await expect(page.getByRole('alert').first()).toContainText(/declined/i);
  // Nothing saved: the method on file is the one before.
  await page.reload();
  await expect(page.getByTestId('payment-method')).toHaveText(before);
  await page.goto('/billing/invoices');
  await expect(page.locator('table.invoices tbody tr')).toHaveCount(invoices);
});
});

test('a SEPA Direct Debit mandate is shown, accepted and saved', async ({ page }) => {
  await signIn(page, 'active@demo.test');
  await page.goto('/billing/payment');
  await hydrated(page);
  await page.getByRole('button', { name: 'Change' }).click();
  await page.getByLabel('Pay by SEPA direct debit instead').check();
  await expect(page.getByTestId('sepa-mandate')).toContainText('Billing Center Demo SAS');
  await page.getByLabel('IBAN').fill('DE89370400440532013000');
  await page.getByLabel('I accept this SEPA Direct Debit mandate').check();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByTestId('payment-method')).toContainText('SEPA Direct Debit •••• 3000');
});
