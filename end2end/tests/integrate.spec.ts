import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import path from 'node:path';
import { test, expect, hydrated } from './fixtures';
import { addCard } from './helpers';
import { tr, french } from './lang';
import { APP_ORIGIN, databaseUrl } from '../playwright.config';

// The seller's side: an operator script makes an API key, registers a
// webhook receiver, creates an account, its billing contact and a portal
// link through /api/v1; the customer follows the link, lands signed in,
// subscribes; the receiver gets signed `subscription.created`, then
// `invoice.paid`.

type Delivery = { id: string; timestamp: string; signature: string; body: string };

/** The seller's application: a real HTTP server that records each delivery. */
async function receiver(): Promise<{ url: string; got: Delivery[]; close: () => void }> {
  const got: Delivery[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const h = (k: string) => String(req.headers[k] ?? '');
      got.push({ id: h('webhook-id'), timestamp: h('webhook-timestamp'), signature: h('webhook-signature'), body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/billing-events`, got, close: () => server.close() };
}

/** Standard Webhooks: HMAC-SHA256 of `id.timestamp.body` under the secret's key. */
function signed(secret: string, d: Delivery): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const mac = crypto.createHmac('sha256', key).update(`${d.id}.${d.timestamp}.${d.body}`).digest('base64');
  return d.signature.split(' ').includes(`v1,${mac}`);
}

/** `billing-center api-key create` on this project's database: the key. */
function apiKey(): string {
  const root = path.resolve(__dirname, '..', '..');
  const bin = path.join(root, 'target', process.env.BC_PROFILE || 'debug', 'billing-center');
  const out = execFileSync(bin, ['api-key', 'create', 'e2e operator script'], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: databaseUrl(test.info().project.name), RUST_LOG: 'warn' },
  }).toString();
  return out.trim().split('\n').pop()!;
}

test('the API makes an account and a portal link; the customer subscribes; the app hears of it', async ({ page, baseURL }) => {
  const key = apiKey();
  const api = async (method: string, route: string, body?: unknown) => {
    const res = await fetch(`${baseURL}/api/v1${route}`, {
      method,
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json', 'Idempotency-Key': crypto.randomUUID() },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    expect(res.status, `${method} ${route}: ${JSON.stringify(json)}`).toBeLessThan(300);
    return json;
  };
  const app = await receiver();
  try {
    const endpoint = await api('POST', '/webhook_endpoints', { url: app.url, events: ['subscription.created', 'invoice.paid'] });
    const lang = french() ? 'fr' : 'en';
    const stamp = Date.now();
    const account = await api('POST', '/accounts', {
      name: `Integrated ${lang} ${stamp}`, country: 'FR', language: lang, time_zone: 'Europe/Paris',
      external_id: `app-${lang}-${stamp}`,
    });
    const email = `owner-${lang}-${stamp}@integrated.example`;
    const user = await api('POST', `/accounts/${account.id}/users`, { email, name: 'Owner', billing_contact: true });
    const link = await api('POST', '/portal_sessions', { account: account.id, user: user.id, return_url: `${APP_ORIGIN}/settings/billing` });
    expect(link.url).toContain('/portal/');

    // The customer follows the link from the seller's application.
    await page.goto(new URL(link.url, baseURL).pathname);
    await expect(page).toHaveURL(/\/billing$/);
    await hydrated(page);
    const back = page.getByRole('link', { name: tr('Back to app.example.com') });
    await expect(back).toHaveAttribute('href', `${APP_ORIGIN}/settings/billing`);
    // Used once: the same link no longer signs anyone in.
    const again = await fetch(`${baseURL}${new URL(link.url, baseURL).pathname}`, { redirect: 'manual' });
    expect(again.headers.get('location')).toContain('/login');

    await page.goto('/billing/cart');
    await hydrated(page);
    await page.getByRole('link', { name: tr('Subscribe to GoToWebinar') }).click();
    await hydrated(page);
    await page.getByRole('button', { name: tr('Place order') }).click();
    await expect(page.getByRole('heading', { name: tr('Review your order') })).toBeVisible();
    await hydrated(page);
    await addCard(page, '4242 4242 4242 4242');
    await expect(page.getByTestId('payment-method')).toContainText('4242');
    await page.getByRole('button', { name: tr('Place order') }).click();
    const number = await page.getByTestId('invoice-number').innerText();

    // The seller's application heard it: signed, in order, this account's.
    await expect.poll(() => app.got.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
    const events = app.got.map((d) => ({ d, e: JSON.parse(d.body) }));
    for (const { d } of events) expect(signed(endpoint.secret, d), `signature of ${d.id}`).toBe(true);
    expect(events.map(({ e }) => e.type)).toEqual(['subscription.created', 'invoice.paid']);
    const [created, paid] = events.map(({ e }) => e.data);
    expect(created.account).toBe(account.id);
    expect(created.entitlement.product).toBe('webinar');
    expect(paid.number).toBe(number);
    expect(new Set(events.map(({ d }) => d.id)).size).toBe(2);

    // The delivery log says the same.
    const log = await api('GET', `/webhook_endpoints/${endpoint.id}/deliveries`);
    expect(log.data.map((d: { state: string }) => d.state)).toEqual(['delivered', 'delivered']);
  } finally {
    app.close();
  }
});
