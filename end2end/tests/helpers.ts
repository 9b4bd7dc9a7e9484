import { expect, Page } from '@playwright/test';
import { hydrated } from './fixtures';

export async function signIn(page: Page, email: string) {
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('billing-demo');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'My Account' })).toBeVisible();
}

export async function goToBilling(page: Page) {
  await page.getByRole('link', { name: 'Go to Billing' }).click();
  await expect(page.getByRole('heading', { name: 'Subscriptions' })).toBeVisible();
  await hydrated(page);
}

export function card(page: Page, product: string) {
  return page.locator(`article.card[data-product="${product}"]`);
}

export async function addCard(page: Page, number: string) {
  await page.getByLabel('Card number').fill(number);
  await page.getByLabel('Expiry date (MM/YY)').fill('12/30');
  await page.getByLabel('CVC').fill('123');
  await page.getByRole('button', { name: 'Save card' }).click();
}
