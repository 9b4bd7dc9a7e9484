// The bytes a first visit to the billing page downloads, as Chromium counts
// them (CDP Network.loadingFinished encodedDataLength: headers and bodies as
// they crossed the wire), cold cache, brotli accepted. A billing contact
// signs in through the API first, so the page is the real one.
//   node end2end/first_visit.mjs http://127.0.0.1:3000 [identity]
// With "identity" the browser refuses compression: what a server without
// compression sends.
import { chromium } from '@playwright/test';

const base = process.argv[2] ?? 'http://127.0.0.1:3000';
const identity = process.argv[3] === 'identity';
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext(identity ? { extraHTTPHeaders: { 'Accept-Encoding': 'identity' } } : {});
const signed = await context.request.post(`${base}/api/sign_in`, {
  form: { email: 'trial@demo.test', password: 'billing-demo' },
  headers: { Accept: 'application/json' },
});
if (!signed.ok()) throw new Error(`sign-in: ${signed.status()}`);
const page = await context.newPage();
const cdp = await context.newCDPSession(page);
await cdp.send('Network.enable');
await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
const urls = new Map();
let total = 0;
const files = [];
cdp.on('Network.responseReceived', (e) => urls.set(e.requestId, { url: e.response.url, encoding: e.response.headers['content-encoding'] ?? e.response.headers['Content-Encoding'] ?? '' }));
cdp.on('Network.loadingFinished', (e) => {
  total += e.encodedDataLength;
  const r = urls.get(e.requestId) ?? { url: '?', encoding: '' };
  files.push([new URL(r.url).pathname, e.encodedDataLength, r.encoding]);
});
await page.goto(`${base}/billing`, { waitUntil: 'networkidle' });
await page.waitForSelector('body[data-hydrated="true"]', { timeout: 30000 });
await page.waitForTimeout(500);
for (const [path, bytes, enc] of files) console.log(`${String(bytes).padStart(9)}  ${enc.padEnd(4)}  ${path}`);
console.log(`${String(total).padStart(9)}  total (${identity ? 'no compression' : 'brotli accepted'})`);
await browser.close();
