import * as fs from 'fs';
import { test, expect, hydrated } from './fixtures';
import { signIn, goToBilling, card, addCard, mailMatching } from './helpers';
import { tr, eur, today, french } from './lang';

test('1. subscribe before the trial ends', async ({ page }) => {
  await signIn(page, 'trial@demo.test');
  await goToBilling(page);
  const webinar = card(page, 'webinar');
  await expect(webinar).toContainText(tr('Free trial'));
  await webinar.getByRole('link', { name: tr('Subscribe now') }).click();
  await hydrated(page);
  // The live summary follows every change without a round trip.
  const total = page.getByTestId('total');
  await expect(total).toHaveText(eur('154.80'));
  await page.getByRole('button', { name: tr('More seats') }).click();
  await expect(total).toHaveText(eur('309.60'));
  await page.getByLabel(tr('Annual')).check();
  await expect(total).toHaveText(eur('2851.20'));
  await page.getByLabel(tr('Monthly')).check();
  await page.getByRole('button', { name: tr('Fewer seats') }).click();
  await expect(total).toHaveText(eur('154.80'));
  await page.getByRole('button', { name: tr('Place order') }).click();

  await expect(page.getByRole('heading', { name: tr('Review your order') })).toBeVisible();
  await hydrated(page);
  await expect(page.getByTestId('billing-period')).toContainText(today());
  await expect(page.getByTestId('seats')).toHaveText('1');
  await expect(page.getByTestId('vat')).toHaveText(eur('25.80'));
  await expect(page.getByTestId('total')).toHaveText(eur('154.80'));
  await addCard(page, '4242 4242 4242 4242');
  await expect(page.getByTestId('payment-method')).toContainText('4242');
  await page.getByRole('button', { name: tr('Place order') }).click();
  await expect(page.getByText(tr('A confirmation email has been sent to trial@demo.test'))).toBeVisible();
  const number = await page.getByTestId('invoice-number').innerText();

  await page.goto('/billing/invoices');
  await expect(page.getByRole('link', { name: number, exact: true })).toBeVisible();
  await hydrated(page);
  // The PDF and the CSV export are downloads, not router navigations.
  const pdfDownload = page.waitForEvent('download');
  await page.getByRole('link', { name: `PDF ${number}` }).click();
  expect((await pdfDownload).suggestedFilename()).toBe(`${number}.pdf`);
  const csvDownload = page.waitForEvent('download');
  await page.getByRole('link', { name: tr('Export CSV') }).click();
  const csv = await csvDownload;
  expect(csv.suggestedFilename()).toBe('invoices.csv');
  expect(fs.readFileSync(await csv.path(), 'utf8')).toContain(number);
  await page.goto('/billing/mailbox');
  await expect(page.getByRole('heading', { name: `Confirmation de votre commande : facture ${number}` })).toBeVisible();
  await page.goto('/billing');
  await expect(card(page, 'webinar')).toContainText(tr('Active'));
});

test('2. renew before expiry: remove the pending cancellation', async ({ page }) => {
  await signIn(page, 'pending@demo.test');
  await goToBilling(page);
  const webinar = card(page, 'webinar');
  await expect(webinar.locator('.banner')).toHaveText(tr('Pending cancellation'));
  await webinar.getByRole('button', { name: tr('Remove pending cancellation') }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('button', { name: tr('Yes, remove cancellation') }).click();
  await dialog.getByRole('button', { name: tr('Close') }).click();
  await expect(dialog).toHaveCount(0);
  await expect(webinar).toContainText(tr('Active'));
  await expect(webinar.getByTestId('renewal')).toContainText(tr('Renews on'));
  await expect(webinar.locator('.banner')).toHaveCount(0);
  // No charge, no invoice: the history still holds only the first one.
  await page.goto('/billing/invoices');
  await expect(page.locator('table.invoices tbody tr')).toHaveCount(1);
});

test('3. subscribe after the trial ended, with a double click on Place order', async ({ page }) => {
  await signIn(page, 'trialover@demo.test');
  await goToBilling(page);
  const webinar = card(page, 'webinar');
  await expect(webinar).toContainText(tr('Trial over'));
  await webinar.getByRole('link', { name: tr('Subscribe now') }).click();
  await hydrated(page);
  await page.getByRole('button', { name: tr('Place order') }).click();
  await expect(page.getByRole('heading', { name: tr('Review your order') })).toBeVisible();
  await hydrated(page);
  await addCard(page, '4242424242424242');
  await expect(page.getByTestId('payment-method')).toContainText('4242');
  await page.getByRole('button', { name: tr('Place order') }).dblclick();
  await expect(page.getByTestId('invoice-number')).toBeVisible();
  await page.goto('/billing/invoices');
  await expect(page.locator('table.invoices tbody tr')).toHaveCount(1);
});

test('4 and 6. reactivate after expiry, modifying the order on the way', async ({ page }) => {
  await signIn(page, 'expired@demo.test');
  await goToBilling(page);
  const webinar = card(page, 'webinar');
  await expect(webinar).toContainText(tr('Expired'));
  await webinar.getByRole('link', { name: tr('Reactivate') }).click();
  await hydrated(page);
  await expect(page.getByTestId('total')).toHaveText(eur('70.80'));
  await page.getByRole('button', { name: tr('Place order') }).click();
  await expect(page.getByRole('heading', { name: tr('Review your order') })).toBeVisible();
  await hydrated(page);
  await expect(page.getByTestId('total')).toHaveText(eur('70.80'));

  // 6. Modify order: change seats, add a product, remove it again.
  await page.getByRole('link', { name: tr('Modify order') }).click();
  await expect(page.getByRole('heading', { name: tr('Cart') })).toBeVisible();
  await hydrated(page);
  await card(page, 'webinar').getByRole('link', { name: tr('Modify') }).click();
  await hydrated(page);
  await page.getByRole('button', { name: tr('More seats') }).click();
  await expect(page.getByTestId('total')).toHaveText(eur('141.60'));
  await page.getByRole('button', { name: tr('Place order') }).click();
  await expect(page.getByRole('heading', { name: tr('Review your order') })).toBeVisible();
  await expect(page.getByTestId('total')).toHaveText(eur('141.60'));
  await page.getByRole('link', { name: tr('Modify order') }).click();
  await hydrated(page);
  await page.getByRole('link', { name: tr('Subscribe to GoToMeeting') }).click();
  await hydrated(page);
  await page.getByRole('button', { name: tr('Add to cart') }).click();
  await expect(page.getByRole('heading', { name: tr('Cart') })).toBeVisible();
  await hydrated(page);
  await expect(page.getByTestId('cart-total')).toHaveText(eur('158.40'));
  await card(page, 'meeting').getByRole('button', { name: tr('Remove') }).click();
  await expect(page.locator('.cart-items article')).toHaveCount(1);
  await expect(page.getByTestId('cart-total')).toHaveText(eur('141.60'));
  await page.getByRole('link', { name: tr('Place order') }).click();
  await expect(page.getByRole('heading', { name: tr('Review your order') })).toBeVisible();
  await hydrated(page);
  await expect(page.getByTestId('total')).toHaveText(eur('141.60'));
  await expect(page.getByTestId('payment-method')).toContainText('Visa •••• 4242');
  await page.getByRole('button', { name: tr('Place order') }).click();
  await expect(page.getByTestId('invoice-number')).toBeVisible();
  await page.goto('/billing');
  await expect(card(page, 'webinar')).toContainText(tr('Active'));
  await expect(card(page, 'webinar')).toContainText(tr('2 seat(s)'));
});

test.describe('5 and 9', () => {
  // The declined card is answered 402 Payment Required, which Chromium logs.
  test.use({ consoleAllow: [/status of 402/] });
  test('cart with two products; a declined card keeps the cart', async ({ page }) => {
  await signIn(page, 'active@demo.test');
  await goToBilling(page);
  // First item: a new product, through the cart page.
  await page.goto('/billing/cart');
  await hydrated(page);
  await page.getByRole('link', { name: tr('Subscribe to GoToWebinar') }).click();
  await hydrated(page);
  await page.getByRole('button', { name: tr('Place order') }).click();
  await expect(page.getByRole('heading', { name: tr('Review your order') })).toBeVisible();
  // With one item in the cart the editor offers Add to cart.
  await page.goto('/billing');
  await card(page, 'meeting').getByRole('link', { name: tr('Modify') }).click();
  await hydrated(page);
  await page.getByRole('button', { name: tr('More seats') }).click();
  await page.getByRole('button', { name: tr('Add to cart') }).click();
  await expect(page.getByRole('heading', { name: tr('Cart') })).toBeVisible();
  await expect(page.locator('.cart-items article')).toHaveCount(2);
  await page.getByRole('link', { name: tr('Place order') }).click();
  await expect(page.getByRole('heading', { name: tr('Review your order') })).toBeVisible();
  await hydrated(page);
  // Reverse charge for a German business: no VAT.
  await expect(page.getByTestId('vat')).toHaveText(eur('0.00'));
  await page.getByRole('button', { name: tr('Change') }).click();
  await addCard(page, '4000 0000 0000 0002');
  await expect(page.getByText(tr('Your card was declined'))).toBeVisible();
  await addCard(page, '4242 4242 4242 4242');
  await expect(page.getByTestId('payment-method')).toContainText('4242');
  await page.getByRole('button', { name: tr('Place order') }).click();
  await expect(page.getByTestId('invoice-number')).toBeVisible();
  await page.goto('/billing/mailbox');
  await expect(page.locator('article.mail')).toHaveCount(1);
  });
});

test('7. corporate: no self-service buttons, the representative and support', async ({ page }) => {
  await signIn(page, 'corporate@demo.test');
  await goToBilling(page);
  await expect(page.getByText(tr('Your account is a Corporate account: changes are made with your dedicated representative'))).toBeVisible();
  await expect(page.getByText('Camille Martin')).toBeVisible();
  await expect(page.getByRole('link', { name: tr('Contact support') })).toBeVisible();
  for (const name of ['Subscribe now', 'Modify', 'Reactivate', 'Remove pending cancellation'].map(tr)) {
    await expect(page.getByRole('link', { name, exact: true })).toHaveCount(0);
    await expect(page.getByRole('button', { name, exact: true })).toHaveCount(0);
  }
  await page.getByRole('link', { name: tr('Contact support') }).click();
  await hydrated(page);
  await page.getByLabel(tr('Subject')).selectOption('reactivation');
  await page.getByLabel(tr('Message')).fill('Please reactivate GoToTraining Pro for 5 seats.');
  await page.getByRole('button', { name: tr('Send request') }).click();
  await expect(page.getByTestId('ticket')).toContainText(tr('was sent to support'));

  await page.goto('/billing');
  await page.getByRole('link', { name: tr('Corporate billing portal') }).click();
  await hydrated(page);
  await expect(page.locator('article[data-invoice]')).toHaveCount(2);
  const first = page.locator('article[data-invoice]').first();
  await first.getByRole('button', { name: tr('Pay now') }).click();
  await first.getByLabel(tr('Card number')).fill('4242 4242 4242 4242');
  await first.getByLabel(tr('Expiry date (MM/YY)')).fill('12/30');
  await first.getByLabel(tr('CVC')).fill('123');
  await first.getByRole('button', { name: french() ? /^Payer / : /^Pay / }).click();
  await expect(page.getByText(french() ? /est payée\. Un reçu vous a été envoyé par e-mail\./ : /is paid\. A receipt has been emailed to you\./)).toBeVisible();
  await expect(page.locator('article[data-invoice]')).toHaveCount(1);
});

test.describe('8. not the billing contact', () => {
  // The pages answer 403 Forbidden, which Chromium logs.
  test.use({ consoleAllow: [/status of 403/] });
  test('every billing page says who is', async ({ page }) => {
  await signIn(page, 'member@demo.test');
  await expect(page.getByTestId('role')).toHaveText(tr('User'));
  for (const path of ['/billing', '/billing/cart', '/billing/checkout', '/billing/invoices', '/billing/plan/1']) {
    await page.goto(path);
    await expect(page.getByTestId('billing-contact')).toContainText(tr('Your billing contact is Théo Trial (trial@demo.test)'));
    await expect(page.getByRole('link', { name: 'Théo Trial (trial@demo.test)' })).toHaveAttribute('href', 'mailto:trial@demo.test');
  }
  });
});

test.describe('server-rendered billing pages', () => {
  test.use({ javaScriptEnabled: false });
  test('the subscriptions page arrives complete in the first HTML', async ({ page }) => {
    await page.goto('/login');
    await page.getByLabel(tr('Email')).fill('active@demo.test');
    await page.getByLabel(tr('Password')).fill('billing-demo');
    await page.getByRole('button', { name: tr('Sign in') }).click();
    await page.goto('/billing');
    await expect(card(page, 'training')).toContainText(tr('Active'));
    await expect(card(page, 'training').getByRole('link', { name: tr('Modify') })).toBeVisible();
    await expect(card(page, 'training').getByTestId('renewal')).toContainText(eur('1308.00'));
  });
});

test('cancel a subscription: the last day, then remove the pending cancellation', async ({ page }) => {
  await signIn(page, 'active@demo.test');
  await goToBilling(page);
  const training = card(page, 'training');
  await training.getByRole('button', { name: tr('Cancel subscription') }).click();
  const dialog = page.getByRole('dialog');
  // The dialog states the last day of access and the renewal not charged
  // (reverse charge: no VAT).
  const terms = dialog.getByTestId('cancel-terms');
  await expect(terms).toContainText(tr('You keep access until'));
  await expect(terms).toContainText(eur('1308.00'));
  await dialog.getByLabel(tr('Why are you cancelling? (optional)')).fill('Budget cuts');
  await dialog.getByRole('button', { name: tr('Confirm cancellation') }).click();
  await expect(dialog.getByRole('status')).toContainText(tr('Your subscription is cancelled.'));
  await dialog.getByRole('button', { name: tr('Close') }).click();
  await expect(dialog).toHaveCount(0);
  await expect(training.locator('.banner')).toHaveText(tr('Pending cancellation'));
  await expect(training.getByTestId('dates')).toContainText(tr('Cancelled: access until'));
  await expect(training.getByRole('button', { name: tr('Cancel subscription') })).toHaveCount(0);
  // The email is in the outbox.
  await page.goto('/billing/mailbox');
  // Emails are in the account's language, whatever the page's.
  const subject = /Your GoToTraining subscription is cancelled|Votre abonnement GoToTraining est résilié/;
  await expect(page.locator('article.mail').filter({ hasText: subject })).toHaveCount(1);
  await page.goto('/billing');
  await hydrated(page);
  await training.getByRole('button', { name: tr('Remove pending cancellation') }).click();
  await dialog.getByRole('button', { name: tr('Yes, remove cancellation') }).click();
  await dialog.getByRole('button', { name: tr('Close') }).click();
  await expect(training).toContainText(tr('Active'));
  await expect(training.locator('.banner')).toHaveCount(0);
});


test('a scheduled downgrade shows on the card with the amount it renews at', async ({ page }) => {
  await signIn(page, 'active@demo.test');
  await goToBilling(page);
  const meeting = card(page, 'meeting');
  const seats = Number((await meeting.locator('p').first().innerText()).match(/(\d+)/)![1]);
  await meeting.getByRole('link', { name: tr('Modify') }).click();
  await hydrated(page);
  await page.getByRole('button', { name: tr('Fewer seats') }).click();
  await page.getByRole('button', { name: tr('Place order') }).click();
  await expect(page.getByRole('heading', { name: tr('Review your order') })).toBeVisible();
  await hydrated(page);
  await page.getByRole('button', { name: tr('Place order') }).click();
  await expect(page.getByRole('heading', { name: tr('Thank you: your order is confirmed') })).toBeVisible();
  await page.goto('/billing');
  await hydrated(page);
  // Business at €19.00 a seat, one seat fewer, reverse charge: the card
  // names the change and the renewal charges what it says.
  const amount = eur(`${19 * (seats - 1)}.00`);
  const change = meeting.getByTestId('scheduled-change');
  await expect(change).toContainText(tr('From'));
  await expect(change).toContainText(amount);
  await expect(meeting.getByTestId('renewal')).toContainText(amount);
});

test.describe('forgot your password', () => {
  // The member lands on /billing, which says who the billing contact is
  // (403), and the used link is refused (422).
  test.use({ consoleAllow: [/status of (403|422)/] });

  test('forgot your password: a link by email, a new password, signed in, the link used once', async ({ page }) => {
    await page.goto('/login');
    await hydrated(page);
    await page.getByRole('link', { name: tr('Forgot your password?') }).click();
    await expect(page.getByRole('heading', { name: tr('Forgot your password'), exact: true })).toBeVisible();
    await hydrated(page);
    await page.getByLabel(tr('Email')).fill('member@demo.test');
    await page.getByRole('button', { name: tr('Send the link') }).click();
    await expect(page.getByTestId('reset-sent')).toBeVisible();
    // The email as the SMTP server received it.
    const link = (await mailMatching('member@demo.test', /\/password\/reset\/[0-9a-f]{64}/))[0];
    for (const attempt of ['first', 'again']) {
      await page.goto(link);
      await hydrated(page);
      await page.getByLabel(tr('New password (at least 10 characters)')).fill('billing-demo');
      await page.getByLabel(tr('The same password again')).fill('billing-demo');
      await page.getByRole('button', { name: tr('Save the password and sign in') }).click();
      if (attempt === 'first') {
        await expect(page).toHaveURL(/\/billing$/);
        await page.goto('/account');
        await expect(page.getByText('member@demo.test')).toBeVisible();
      } else {
        await expect(page.getByRole('alert')).toContainText(tr('This link has expired or was already used'));
      }
    }
  });
});
