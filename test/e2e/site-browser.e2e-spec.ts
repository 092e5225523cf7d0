import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { type SiteHarness, startSiteHarness } from './site-harness.util';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const RESULTS = path.resolve(__dirname, '../../test-results');

interface Athlete {
  athlete: { id: number };
}

describe('website in headless Chromium (e2e)', () => {
  let h: SiteHarness;
  let context: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    h = await startSiteHarness();
    profile = mkdtempSync(path.join(tmpdir(), 'tributary-chromium-'));
    // A fresh, throw-away profile directory (Playwright's way of passing --user-data-dir).
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 390, height: 844 },
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
    });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await h?.close();
    if (profile !== undefined) rmSync(profile, { recursive: true, force: true });
  });

  it('should go from the landing page through the Strava consent page to a dashboard showing Strava, at 390 px', async () => {
    const created = (await h.control('POST', '/strava/athletes', { firstname: 'Pia', lastname: 'Browser' })) as Athlete;
    const athleteId = String(created.athlete.id);
    const page = await context.newPage();
    try {
      await page.goto(`${h.url}/`);
      await page.getByRole('heading', { level: 1, name: 'Every activity, everywhere.' }).waitFor();
      const scrollWidth = Number(await page.evaluate<unknown>('document.documentElement.scrollWidth'));
      expect(scrollWidth).toBeLessThanOrEqual(390);

      await page.getByRole('link', { name: 'Connect Strava' }).click();
      // The sandbox's consent page: pick the athlete and authorize.
      await page.waitForURL((url) => url.href.startsWith(h.sandbox.urls.strava));
      await page.selectOption('select[name="athlete"]', athleteId);
      await page.click('#authorize');

      await page.waitForURL(`${h.url}/dashboard?notice=connected`);
      await page.getByRole('heading', { level: 1, name: 'Your services' }).waitFor();
      const card = page.locator('[data-connection="strava"]');
      expect(await card.textContent()).toContain('Pia Browser');
      expect(await card.locator('.status').textContent()).toBe('OK');
      expect(await page.getByRole('button', { name: 'Disconnect Strava' }).isVisible()).toBe(true);
      expect(Number(await page.evaluate<unknown>('document.documentElement.scrollWidth'))).toBeLessThanOrEqual(390);

      mkdirSync(RESULTS, { recursive: true });
      const shot = path.join(RESULTS, 'site-dashboard-390.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(statSync(shot).size).toBeGreaterThan(1000);
      await page.screenshot({ path: path.join(RESULTS, 'site-dashboard-390-viewport.png') });

      await page.goto(`${h.url}/`);
      await page.screenshot({ path: path.join(RESULTS, 'site-landing-390.png'), fullPage: true });

      // Sign out with the real form (CSRF token from the page) and land back on the start page.
      await page.goto(`${h.url}/dashboard`);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(`${h.url}/`);
      expect(await page.getByRole('link', { name: 'Go to your dashboard' }).count()).toBe(0);
    } finally {
      await page.close();
    }
  }, 60_000);
});
