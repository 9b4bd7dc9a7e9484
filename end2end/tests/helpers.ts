import { expect, Page } from '@playwright/test';
import { hydrated } from './fixtures';
import { tr } from './lang';

export async function signIn(page: Page, email: string) {
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel(tr('Email')).fill(email);
  await page.getByLabel(tr('Password')).fill('billing-demo');
  await page.getByRole('button', { name: tr('Sign in') }).click();
  await expect(page.getByRole('heading', { name: tr('My Account') })).toBeVisible();
}

export async function goToBilling(page: Page) {
  await page.getByRole('link', { name: tr('Go to Billing') }).click();
  await expect(page.getByRole('heading', { name: tr('Subscriptions') })).toBeVisible();
  await hydrated(page);
}

export function card(page: Page, product: string) {
  return page.locator(`article.card[data-product="${product}"]`);
}

export async function addCard(page: Page, number: string) {
  await page.getByLabel(tr('Card number')).fill(number);
  await page.getByLabel(tr('Expiry date (MM/YY)')).fill('12/30');
  await page.getByLabel(tr('CVC')).fill('123');
  await page.getByRole('button', { name: tr('Save card') }).click();
}
