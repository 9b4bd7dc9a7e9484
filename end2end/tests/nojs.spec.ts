import { Browser, Page } from '@playwright/test';
import { test, expect, hydrated } from './fixtures';
import { addCard, card } from './helpers';

// The `nojs` project: JavaScript is off. Every step is a link, a plain form
// post and a redirect; the live summary falls back to "Update summary".

async function signIn(page: Page, email: string) {
  await page.goto('/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('billing-demo');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'My Account' })).toBeVisible();
  await page.getByRole('link', { name: 'Go to Billing' }).click();
  await expect(page.getByRole('heading', { name: 'Subscriptions' })).toBeVisible();
}

async function placeOrderOnTheOrderPage(page: Page) {
  await expect(page.getByRole('heading', { name: 'Review your order' })).toBeVisible();
  await page.getByRole('button', { name: 'Place order' }).click();
  await expect(page).toHaveURL(/\/billing\/orders\//);
  await expect(page.getByTestId('invoice-number')).toBeVisible();
  return page.getByTestId('invoice-number').innerText();
}

/** Saves a card the only way there is, with JavaScript (the card goes from
 * the page to the provider), in a browser of its own. */
async function saveCardWithJavaScript(browser: Browser, baseURL: string, email: string) {
  const context = await browser.newContext({ baseURL, javaScriptEnabled: true });
  const page = await context.newPage();
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('billing-demo');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'My Account' })).toBeVisible();
  await page.goto('/billing/payment');
  await hydrated(page);
  const change = page.getByRole('button', { name: 'Change' });
  if (await change.count()) await change.click();
  await addCard(page, '4242 4242 4242 4242');
  await expect(page.getByTestId('payment-method')).toContainText('4242');
  await context.close();
}

test('1. subscribe before the trial ends', async ({ page, browser, baseURL }) => {
  await signIn(page, 'trial@demo.test');
  await card(page, 'webinar').getByRole('link', { name: 'Subscribe now' }).click();
  await expect(page.getByTestId('total')).toHaveText('€154.80');
  // The summary follows the form through "Update summary".
  await page.getByLabel('Seats', { exact: true }).fill('2');
  await page.getByLabel('Annual').check();
  await page.getByRole('button', { name: 'Update summary' }).click();
  await expect(page.getByTestId('total')).toHaveText('€2,851.20');
  await page.getByLabel('Monthly').check();
  await page.getByLabel('Seats', { exact: true }).fill('1');
  await page.getByRole('button', { name: 'Update summary' }).click();
  await expect(page.getByTestId('total')).toHaveText('€154.80');
  await page.getByRole('button', { name: 'Place order' }).click();
  await expect(page.getByRole('heading', { name: 'Review your order' })).toBeVisible();
  await expect(page.getByTestId('total')).toHaveText('€154.80');
  // Adding a card needs JavaScript, and the page says so: no form that
  // would post a card number.
  await expect(page.getByTestId('needs-javascript')).toContainText('Adding a payment method needs JavaScript');
  await expect(page.getByLabel('Card number')).toHaveCount(0);
  // Once a card is saved (with JavaScript, elsewhere), every order works without.
  await saveCardWithJavaScript(browser, baseURL!, 'trial@demo.test');
  await page.reload();
  await expect(page.getByTestId('payment-method')).toContainText('4242');
  const number = await placeOrderOnTheOrderPage(page);
  await expect(page.getByText('A confirmation email has been sent to trial@demo.test')).toBeVisible();
  await page.goto('/billing/invoices');
  await expect(page.getByRole('link', { name: number, exact: true })).toBeVisible();
  await page.goto('/billing');
  await expect(card(page, 'webinar')).toContainText('Active');
});

test('2. renew before expiry: remove the pending cancellation', async ({ page }) => {
  await signIn(page, 'pending@demo.test');
  const webinar = card(page, 'webinar');
  await expect(webinar.locator('.banner')).toHaveText('Pending cancellation');
  await webinar.getByRole('button', { name: 'Remove pending cancellation' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('button', { name: 'Yes, remove cancellation' }).click();
  await expect(dialog.getByRole('status')).toContainText('The cancellation was removed');
  await dialog.getByRole('button', { name: 'Close' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(card(page, 'webinar')).toContainText('Active');
  await expect(card(page, 'webinar').locator('.banner')).toHaveCount(0);
});

test('4. reactivate after expiry', async ({ page }) => {
  await signIn(page, 'expired@demo.test');
  await card(page, 'webinar').getByRole('link', { name: 'Reactivate' }).click();
  await expect(page.getByTestId('total')).toHaveText('€70.80');
  await page.getByRole('button', { name: 'Place order' }).click();
  await expect(page.getByTestId('total')).toHaveText('€70.80');
  await placeOrderOnTheOrderPage(page);
  await page.goto('/billing');
  await expect(card(page, 'webinar')).toContainText('Active');
});

test('5. a cart with two products, one order', async ({ page }) => {
  await signIn(page, 'active@demo.test');
  await page.goto('/billing/cart');
  await page.getByRole('link', { name: 'Subscribe to GoToWebinar' }).click();
  await page.getByRole('button', { name: 'Place order' }).click();
  await expect(page.getByRole('heading', { name: 'Review your order' })).toBeVisible();
  await page.goto('/billing');
  await card(page, 'meeting').getByRole('link', { name: 'Modify' }).click();
  // With one item in the cart the editor offers Add to cart.
  await page.getByLabel('Seats', { exact: true }).fill('3');
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await expect(page.getByRole('heading', { name: 'Cart' })).toBeVisible();
  await expect(page.getByRole('status')).toHaveText('GoToMeeting was added to your cart.');
  await expect(page.locator('.cart-items article')).toHaveCount(2);
  await page.getByRole('link', { name: 'Place order' }).click();
  await placeOrderOnTheOrderPage(page);
  await page.goto('/billing/mailbox');
  await expect(page.locator('article.mail')).toHaveCount(1);
  await page.goto('/billing/invoices');
  await expect(page.locator('table.invoices tbody tr')).toHaveCount(1);
});

test('a refused form says why and leads back to the form', async ({ page }) => {
  await page.goto('/login');
  await page.getByLabel('Email').fill('trialover@demo.test');
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('form-error')).toHaveText('The email or password is incorrect.');
  await page.getByRole('link', { name: 'Back' }).click();
  await expect(page).toHaveURL(/\/login$/);
  // The message is shown once.
  await page.goto('/form-error');
  await expect(page.getByTestId('form-error')).toHaveCount(0);

  await signIn(page, 'trialover@demo.test');
  await card(page, 'webinar').getByRole('link', { name: 'Subscribe now' }).click();
  await page.getByRole('button', { name: 'Place order' }).click();
  await expect(page.getByRole('heading', { name: 'Review your order' })).toBeVisible();
  // No payment method and no JavaScript: the page says how to add one,
  // and the order cannot be placed yet; the cart is kept.
  await expect(page.getByTestId('needs-javascript')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Place order' })).toBeDisabled();
  await page.reload();
  await expect(page.getByTestId('total')).toHaveText('€154.80');
});

test('cancel a subscription and remove the cancellation', async ({ page }) => {
  await signIn(page, 'active@demo.test');
  const training = card(page, 'training');
  await training.getByRole('button', { name: 'Cancel subscription' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog.getByTestId('cancel-terms')).toContainText('You keep access until');
  await dialog.getByLabel('Why are you cancelling? (optional)').fill('Moving to another tool');
  await dialog.getByRole('button', { name: 'Confirm cancellation' }).click();
  await expect(page).toHaveURL(/cancelled=/);
  await expect(dialog.getByRole('status')).toContainText('Your subscription is cancelled.');
  await dialog.getByRole('button', { name: 'Close' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(training.locator('.banner')).toHaveText('Pending cancellation');
  await training.getByRole('button', { name: 'Remove pending cancellation' }).click();
  await dialog.getByRole('button', { name: 'Yes, remove cancellation' }).click();
  await dialog.getByRole('button', { name: 'Close' }).click();
  await expect(card(page, 'training')).toContainText('Active');
});

test.describe('without JavaScript, a forgotten password', () => {
  // The member lands on /billing, which names the billing contact (403).
  test.use({ consoleAllow: [/status of 403/] });
  test('is reset through plain forms', async ({ page }) => {
    await page.goto('/login');
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.getByLabel('Email').fill('member@demo.test');
    await page.getByRole('button', { name: 'Send the link' }).click();
    await expect(page).toHaveURL(/\/password\/forgot\?sent=1$/);
    await expect(page.getByTestId('reset-sent')).toBeVisible();
    await signIn(page, 'trial@demo.test');
    await page.goto('/billing/mailbox');
    const body = await page.locator('article.mail pre').filter({ hasText: '/password/reset/' }).first().textContent();
    const link = body!.match(/\/password\/reset\/[0-9a-f]{64}/)![0];
    await page.context().clearCookies();
    await page.goto(link);
    await page.getByLabel('New password (at least 10 characters)').fill('billing-demo');
    await page.getByLabel('The same password again').fill('billing-demo');
    await page.getByRole('button', { name: 'Save the password and sign in' }).click();
    await expect(page).toHaveURL(/\/billing$/);
    await page.goto('/account');
    await expect(page.getByText('member@demo.test')).toBeVisible();
  });
});
