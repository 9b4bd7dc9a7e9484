import { test as base, expect, Page } from '@playwright/test';

// Fails any test whose page logs a console error, a hydration warning or an
// uncaught exception.
export const test = base.extend<{ consoleAllow: RegExp[]; consoleGuard: void }>({
  // Console messages a test expects (e.g. the 404 of a missing page).
  consoleAllow: [[], { option: true }],
  consoleGuard: [
    async ({ page, consoleAllow }, use) => {
      const problems: string[] = [];
      page.on('console', (msg) => {
        const text = msg.text();
        if (consoleAllow.some((re) => re.test(text))) return;
        if (msg.type() === 'error' || /hydrat/i.test(text)) {
          problems.push(`${msg.type()}: ${text}`);
        }
      });
      page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
      await use();
      expect(problems, 'browser console must stay clean').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

/** Waits until the WASM app has hydrated the page. */
export async function hydrated(page: Page) {
  await expect(page.locator('body[data-hydrated="true"]')).toHaveCount(1);
}
