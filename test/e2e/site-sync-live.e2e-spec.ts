import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { type SiteHarness, startSiteHarness } from './site-harness.util';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const RESULTS = path.resolve(__dirname, '../../test-results');
const DAY = 24 * 3_600_000;

interface Athlete {
  athlete: { id: number };
}

/** The whole loop with a real worker: connect two sandbox services, press Sync now, watch it finish. */
describe('Sync now with a real worker, watched in headless Chromium (e2e)', () => {
  let h: SiteHarness;
  let context: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    h = await startSiteHarness({ queues: true });
    profile = mkdtempSync(path.join(tmpdir(), 'tributary-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 390, height: 844 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await h?.close();
    if (profile !== undefined) rmSync(profile, { recursive: true, force: true });
  });

  it('should show the sync progressing to done and the Strava activity present on Garmin too', async () => {
    const created = (await h.control('POST', '/strava/athletes', { firstname: 'Live', lastname: 'Sync' })) as Athlete;
    const start = new Date(Math.floor((Date.now() - 3 * DAY) / 1000) * 1000).toISOString();
    await h.control('POST', '/strava/activities', {
      athlete: created.athlete.id,
      name: 'Tempo run',
      spec: { start, durationSeconds: 900, sport: 'Run', intervalSeconds: 15 },
    });
    const garminUser = `live-${Date.now()}@garmin.test`;
    await h.control('POST', '/garmin/accounts', { username: garminUser, password: 'garmin secret', mfa: false });

    const page = await context.newPage();
    try {
      await page.goto(`${h.url}/connect/strava`);
      await page.waitForURL((url) => url.href.startsWith(h.sandbox.urls.strava));
      await page.selectOption('select[name="athlete"]', String(created.athlete.id));
      await page.click('#authorize');
      await page.waitForURL(`${h.url}/dashboard?notice=connected`);
      await page.goto(`${h.url}/connect/garmin_connect`);
      await page.fill('#username', garminUser);
      await page.fill('#password', 'garmin secret');
      await page.getByRole('button', { name: 'Connect Garmin Connect' }).click();
      await page.waitForURL(`${h.url}/dashboard?notice=connected`);

      await page.getByRole('button', { name: 'Sync now' }).click();
      await page.locator('[data-sync-status][data-active="true"]').waitFor();
      // Every label the page shows on the way, in order.
      await page.evaluate(`(() => {
        const el = document.querySelector('[data-sync-status]');
        window.__labels = [el.textContent];
        new MutationObserver(() => window.__labels.push(el.textContent)).observe(el, { childList: true, characterData: true, subtree: true });
      })()`);
      await h.startWorker();
      await page.locator('[data-sync-status][data-active="false"]').waitFor({ timeout: 60_000 });
      const labels = (await page.evaluate<unknown>('window.__labels')) as string[];
      expect(await page.locator('[data-sync-status]').getAttribute('data-state')).toBe('succeeded');
      expect(labels.at(-1)).toBe('done');

      const item = page.locator('[data-activity]', { hasText: 'Tempo run' });
      await item.waitFor();
      expect(await item.locator('[data-presence="strava"]').getAttribute('data-state')).toBe('present');
      expect(await item.locator('[data-presence="garmin_connect"]').getAttribute('data-state')).toBe('present');
      const onGarmin = (await h.control(
        'GET',
        `/garmin/activities?username=${encodeURIComponent(garminUser)}`,
      )) as unknown[];
      expect(onGarmin).toHaveLength(1);
      mkdirSync(RESULTS, { recursive: true });
      await page.screenshot({ path: path.join(RESULTS, 'dashboard-synced-live-390.png'), fullPage: true });
    } finally {
      await page.close();
    }
  }, 120_000);
});
