import { expect, Page, test } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';
import { mailDir } from '../playwright.config';
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

/** A MIME message's text: every part's body, transfer-decoded. */
function decodeMime(raw: string): string {
  const out: string[] = [];
  for (const part of raw.split(/\r?\n--[^\r\n]+\r?\n/)) {
    const split = part.search(/\r?\n\r?\n/);
    if (split < 0) continue;
    const headers = part.slice(0, split).toLowerCase();
    const body = part.slice(split).trim();
    if (headers.includes('content-transfer-encoding: base64')) {
      out.push(Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8'));
    } else if (headers.includes('content-transfer-encoding: quoted-printable')) {
      const bytes = body
        .replace(/=\r?\n/g, '')
        .replace(/=([0-9A-F]{2})/gi, (_, h) => String.fromCharCode(parseInt(h, 16)));
      out.push(Buffer.from(bytes, 'latin1').toString('utf8'));
    } else {
      out.push(body);
    }
  }
  return out.join('\n');
}

/** Waits for an email to `to` whose text matches `pattern` in the SMTP
 * sink of this test's project; the match. */
export async function mailMatching(to: string, pattern: RegExp): Promise<RegExpMatchArray> {
  const dir = path.join(mailDir(test.info().project.name), 'new');
  let found: RegExpMatchArray | null = null;
  await expect
    .poll(
      () => {
        const files = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
        for (const f of files) {
          const raw = fs.readFileSync(path.join(dir, f), 'utf8');
          if (!new RegExp(`^To: .*${to.replace(/[.+]/g, '\\$&')}`, 'mi').test(raw)) continue;
          found = decodeMime(raw).match(pattern);
          if (found) return true;
        }
        return false;
      },
      { timeout: 20_000, message: `an email to ${to} matching ${pattern}` },
    )
    .toBe(true);
  return found!;
}
