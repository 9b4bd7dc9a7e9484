import { test, expect, hydrated } from './fixtures';

// Runs in the `french` project: the browser asks for French first.

test('the browser language picks French; the switch changes it on every page and remembers it', async ({ page, context }) => {
  await page.goto('/help/reactivate');
  await hydrated(page);
  await expect(page.locator('html')).toHaveAttribute('lang', 'fr');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Réactiver votre abonnement');
  await expect(page.getByRole('navigation', { name: 'Principale' }).getByRole('link', { name: 'Abonnements' })).toBeVisible();

  // To English, on the same page.
  await page.getByRole('link', { name: 'English' }).click();
  await expect(page).toHaveURL(/\/help\/reactivate$/);
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Reactivate your subscription');
  await hydrated(page);
  const cookies = await context.cookies();
  expect(cookies.find((c) => c.name === 'bc_lang')?.value).toBe('en');
  // Remembered on the next page, against the browser's own preference.
  await page.goto('/login');
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  await hydrated(page);

  // And back to French.
  await page.getByRole('link', { name: 'Français' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.locator('html')).toHaveAttribute('lang', 'fr');
  await expect(page.getByRole('button', { name: 'Se connecter' })).toBeVisible();
  await hydrated(page);
});

test('the Corporate notice links to why it cannot be changed online', async ({ page }) => {
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('E-mail').fill('corporate@demo.test');
  await page.getByLabel('Mot de passe').fill('billing-demo');
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.getByRole('link', { name: 'Accéder à la facturation' }).click();
  await hydrated(page);
  await page.getByRole('link', { name: 'Pourquoi ne puis-je pas modifier cela en ligne ?' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(
    "Pourquoi les informations de facturation ou d'abonnement ne peuvent pas être modifiées en ligne",
  );
  await expect(page.getByRole('link', { name: 'Payer en ligne dans le portail de facturation Entreprise' })).toBeVisible();
});

test('every help article opens from the list, in French', async ({ page }) => {
  await page.goto('/help');
  await hydrated(page);
  const links = page.locator('ul.help-index a');
  await expect(links).toHaveCount(10);
  const hrefs = await links.evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  for (const href of hrefs) {
    await page.goto(href!);
    await expect(page.locator('html')).toHaveAttribute('lang', 'fr');
    await expect(page.locator('[data-article] p').first()).toBeVisible();
  }
});
