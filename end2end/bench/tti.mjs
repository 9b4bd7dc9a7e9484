// Time to interactive of the plan editor, for `make bench`: from navigation
// start to the first click on "More seats" that the page answers (the live
// summary shows the new seat count). Prints the median of 5 loads in ms.
// usage: node tti.mjs BASE_URL SESSION_COOKIE PLAN_PATH
import { chromium } from '@playwright/test';

const [base, cookie, path] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium' });
const context = await browser.newContext();
await context.addCookies([{ name: 'bc_session', value: cookie, url: base }]);
const times = [];
for (let i = 0; i < 5; i++) {
  const page = await context.newPage();
  await page.goto(base + path, { waitUntil: 'commit' });
  const seats = page.getByTestId('seats').first();
  await seats.waitFor();
  const before = await seats.innerText();
  // Click until the click works: before hydration nothing answers it.
  for (;;) {
    await page.getByRole('button', { name: 'More seats' }).click({ timeout: 5000 });
    const now = await seats.innerText();
    if (now !== before) break;
    await page.waitForTimeout(10);
  }
  times.push(await page.evaluate(() => performance.now()));
  await page.close();
}
await browser.close();
times.sort((a, b) => a - b);
console.log(Math.round(times[2]));
