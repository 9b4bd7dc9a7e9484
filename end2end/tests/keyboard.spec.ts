import { Locator, Page } from '@playwright/test';
import { test, expect, hydrated } from './fixtures';

// The keyboard alone: Tab to a control (within a bound, so an unreachable
// control fails), then Enter, Space, arrows or typing. No click anywhere.
async function tabTo(page: Page, target: Locator, max = 60) {
  for (let i = 0; i < max; i++) {
    if (await target.evaluate((el) => el === document.activeElement)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`not reachable with Tab: ${target}`);
}

async function typeInto(page: Page, field: Locator, text: string) {
  await tabTo(page, field);
  await page.keyboard.type(text);
}

test('flow 1 with the keyboard only: subscribe before the trial ends', async ({ page }) => {
  await page.goto('/login');
  await hydrated(page);
  await typeInto(page, page.getByLabel('Email'), 'trial@demo.test');
  await typeInto(page, page.getByLabel('Password'), 'billing-demo');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'My Account' })).toBeVisible();
  await hydrated(page);
  await tabTo(page, page.getByRole('link', { name: 'Go to Billing' }));
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'Subscriptions' })).toBeVisible();
  await hydrated(page);
  await tabTo(page, page.locator('article.card[data-product="webinar"]').getByRole('link', { name: 'Subscribe now' }));
  await page.keyboard.press('Enter');
  await hydrated(page);
  const total = page.getByTestId('total');
  await expect(total).toHaveText('€154.80');
  await tabTo(page, page.getByRole('button', { name: 'More seats' }));
  await page.keyboard.press('Space');
  await expect(total).toHaveText('€309.60');
  // Radio buttons: arrows move the choice.
  await tabTo(page, page.getByLabel('Monthly'));
  await page.keyboard.press('ArrowDown');
  await expect(page.getByLabel('Annual')).toBeChecked();
  await expect(total).toHaveText('€2,851.20');
  await page.keyboard.press('ArrowUp');
  await expect(total).toHaveText('€309.60');
  await tabTo(page, page.getByRole('button', { name: 'Place order' }));
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'Review your order' })).toBeVisible();
  await hydrated(page);
  await typeInto(page, page.getByLabel('Card number'), '4242 4242 4242 4242');
  await typeInto(page, page.getByLabel('Expiry date (MM/YY)'), '12/30');
  await typeInto(page, page.getByLabel('CVC'), '123');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('payment-method')).toContainText('4242');
  await tabTo(page, page.getByRole('button', { name: 'Place order' }));
  await page.keyboard.press('Enter');
  await expect(page.getByText('A confirmation email has been sent to trial@demo.test')).toBeVisible();
  // The confirmation is a status region: screen readers announce it.
  await expect(page.locator('.confirmation[role="status"]')).toBeVisible();
});

test('the dialog keeps the focus, closes with Escape and gives the focus back', async ({ page }) => {
  await page.goto('/login');
  await hydrated(page);
  await typeInto(page, page.getByLabel('Email'), 'pending@demo.test');
  await typeInto(page, page.getByLabel('Password'), 'billing-demo');
  await page.keyboard.press('Enter');
  await hydrated(page);
  await tabTo(page, page.getByRole('link', { name: 'Go to Billing' }));
  await page.keyboard.press('Enter');
  await hydrated(page);
  const opener = page.getByRole('button', { name: 'Remove pending cancellation' });
  await tabTo(page, opener);
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog');
  const yes = dialog.getByRole('button', { name: 'Yes, remove cancellation' });
  const keep = dialog.getByRole('button', { name: 'Keep cancellation' });
  await expect(yes).toBeFocused();
  // Tab and Shift+Tab stay inside.
  await page.keyboard.press('Tab');
  await expect(keep).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(yes).toBeFocused();
  await page.keyboard.press('Shift+Tab');
  await expect(keep).toBeFocused();
  // Escape closes it and the focus returns to the button that opened it.
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await expect(opener).toBeFocused();

  // Flow 2 by keyboard: open, confirm, close.
  await page.keyboard.press('Enter');
  await expect(yes).toBeFocused();
  await page.keyboard.press('Enter');
  const close = dialog.getByRole('button', { name: 'Close' });
  await expect(close).toBeFocused();
  await expect(dialog.getByRole('status')).toContainText('The cancellation was removed');
  await page.keyboard.press('Enter');
  await expect(dialog).toHaveCount(0);
  await expect(page.locator('article.card[data-product="webinar"]')).toContainText('Active');
  // The opener is gone with the cancellation: the focus is on the heading.
  await expect(page.getByRole('heading', { name: 'Subscriptions', level: 1 })).toBeFocused();
});
