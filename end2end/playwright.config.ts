import { defineConfig, devices } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// The server is the already-built binary, started on a free port with a
// fresh database for this run. Workers inherit the env of the main process,
// so the directory and port are chosen once.
const root = path.resolve(__dirname, '..');
if (!process.env.BC_E2E_DIR) {
  process.env.BC_E2E_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-e2e-'));
}
if (!process.env.BC_E2E_PORT) {
  process.env.BC_E2E_PORT = String(20000 + (process.pid % 20000));
}
const port = Number(process.env.BC_E2E_PORT);
const profile = process.env.BC_PROFILE || 'debug';
const bin = path.join(root, 'target', profile, 'billing-center');

// One server and one fresh, seeded database per project, so that each
// project's flows start from the demo data: the flows in English at desktop
// and phone widths, the flows and the accessibility checks in French, a
// keyboard-only run and a run without JavaScript.
const english = [/flows\.spec/, /skeleton\.spec/];
// The operator's integration (API, portal link, webhooks) in both languages.
const integrate = /integrate\.spec/;
const viewports = [
  { name: 'desktop', width: 1280, height: 900, port, locale: 'en-US', match: [...english, /a11y\.spec/, integrate] },
  { name: 'mobile', width: 390, height: 844, port: port + 2, locale: 'en-US', match: english },
  { name: 'french', width: 1280, height: 900, port: port + 4, locale: 'fr-FR', match: [/flows\.spec/, /i18n\.spec/, /a11y\.spec/, integrate] },
  { name: 'keyboard', width: 1280, height: 900, port: port + 6, locale: 'en-US', match: [/keyboard\.spec/] },
  { name: 'nojs', width: 1280, height: 900, port: port + 8, locale: 'en-US', match: [/nojs\.spec/], javaScriptEnabled: false },
];
// With a Stripe-protocol server (localstripe, started by `make test`), the
// Stripe flows run against a server configured for it.
const stripeUrl = process.env.BC_E2E_STRIPE_URL;
if (stripeUrl) {
  viewports.push({ name: 'stripe', width: 1280, height: 900, port: port + 10, locale: 'en-US', match: [/stripe\.spec/] });
  // The same flows on PostgreSQL, given an empty database for them.
  if (process.env.BC_E2E_STRIPE_POSTGRES_URL) {
    viewports.push({ name: 'stripe-postgres', width: 1280, height: 900, port: port + 12, locale: 'en-US', match: [/stripe\.spec/] });
  }
}

/** The Stripe settings of the `stripe` project's server. */
export function stripeEnv(): Record<string, string> {
  return stripeUrl
    ? {
        STRIPE_SECRET_KEY: 'sk_test_billing_center_e2e',
        STRIPE_PUBLISHABLE_KEY: 'pk_test_billing_center_e2e',
        STRIPE_WEBHOOK_SECRET: 'whsec_billing_center_e2e',
        STRIPE_API_BASE: stripeUrl,
        STRIPE_JS_URL: `${stripeUrl}/js.stripe.com/v3/`,
      }
    : {};
}

/** Where the SMTP sink of project `name` keeps what it receives (a maildir). */
export function mailDir(name: string) {
  return path.join(process.env.BC_E2E_DIR!, `mail-${name}`);
}

/** The projects whose server sends its emails to a real SMTP sink. */
const withSmtp = ['desktop', 'mobile', 'french'];
const smtpPort = (p: number) => p + 100;

/** The origin the portal links of the integration flow return to. */
export const APP_ORIGIN = 'https://app.example.com';

/** The database of project `name`. */
export function databaseUrl(name: string) {
  if (name === 'stripe-postgres') return process.env.BC_E2E_STRIPE_POSTGRES_URL!;
  return process.env.BC_E2E_DATABASE_URL
    ? `${process.env.BC_E2E_DATABASE_URL}_${name}`
    : `sqlite://${process.env.BC_E2E_DIR}/${name}.db`;
}

function server(name: string, p: number) {
  return {
    // A fresh database with the demo accounts, then the server.
    command: `"${bin}" seed-demo && exec "${bin}" serve`,
    cwd: root,
    url: `http://127.0.0.1:${p}/`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe' as const,
    stderr: 'pipe' as const,
    env: {
      DATABASE_URL: databaseUrl(name),
      ...(name.startsWith('stripe') ? stripeEnv() : {}),
      LEPTOS_OUTPUT_NAME: 'billing-center',
      LEPTOS_SITE_ROOT: 'target/site',
      LEPTOS_SITE_PKG_DIR: 'pkg',
      LEPTOS_SITE_ADDR: `127.0.0.1:${p}`,
      LEPTOS_RELOAD_PORT: String(p + 1),
      LEPTOS_ENV: 'PROD',
      BC_RETURN_ORIGINS: APP_ORIGIN,
      ...(withSmtp.includes(name) ? { SMTP_URL: `smtp://127.0.0.1:${smtpPort(p)}` } : {}),
      RUST_LOG: 'warn',
    },
  };
}

/** A real SMTP server (aiosmtpd, installed by `make test`) for project `name`. */
function smtpSink(name: string, p: number) {
  // A maildir: Python's Mailbox makes its three folders only for a new directory.
  for (const sub of ['tmp', 'new', 'cur']) fs.mkdirSync(path.join(mailDir(name), sub), { recursive: true });
  return {
    command: `exec python3 -m aiosmtpd -n -l 127.0.0.1:${smtpPort(p)} -c aiosmtpd.handlers.Mailbox "${mailDir(name)}"`,
    cwd: root,
    port: smtpPort(p),
    reuseExistingServer: false,
    timeout: 30_000,
    stdout: 'ignore' as const,
    stderr: 'pipe' as const,
  };
}

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: process.env.CI ? 1 : 0,
  reporter: [['list']],
  use: {
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  projects: viewports.map((v) => ({
    name: v.name,
    testMatch: v.match,
    use: {
      ...devices['Desktop Chrome'],
      viewport: { width: v.width, height: v.height },
      baseURL: `http://127.0.0.1:${v.port}`,
      // Sets Accept-Language: the server picks the page's language from it.
      locale: v.locale,
      javaScriptEnabled: v.javaScriptEnabled ?? true,
    },
  })),
  webServer: [
    ...viewports.filter((v) => withSmtp.includes(v.name)).map((v) => smtpSink(v.name, v.port)),
    ...viewports.map((v) => server(v.name, v.port)),
  ],
});
