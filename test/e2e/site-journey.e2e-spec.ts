import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import { PermanentError, describeError } from '@tributary/common';
import { type SiteHarness, startSiteHarness } from './site-harness.util';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const RESULTS = path.resolve(__dirname, '../../test-results');
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

/** One step of the journey failed: names the step, so a missing piece of the site reads as a gap, not a crash. */
class JourneyStepError extends PermanentError {
  constructor(step: string, cause: unknown) {
    super('journey_step', `GAP in the user journey at step "${step}": ${describeError(cause)}`, { cause });
  }
}

async function step<T>(name: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw new JourneyStepError(name, err);
  }
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(RESULTS, `journey-${name}.png`), fullPage: true });
}

/** The page must not scroll sideways: everything fits the viewport width. */
async function fitsWidth(page: Page): Promise<void> {
  const width = page.viewportSize()?.width ?? 0;
  const scrollWidth = Number(await page.evaluate<unknown>('document.documentElement.scrollWidth'));
  const url = page.url();
  expect({ url, overflow: scrollWidth > width ? scrollWidth : 'none' }).toEqual({ url, overflow: 'none' });
}

/**
 * A person's whole visit, in headless Chromium against the hub, a worker and the provider sandbox: sign up by
 * connecting Strava, connect Garmin, sync, see the activity on both, open its map, stop sending Strava activities to
 * Garmin, disconnect Garmin, export everything, delete the account. Screenshots at desktop and phone width go to
 * test-results/.
 */
describe('user journey in headless Chromium (e2e)', () => {
  let h: SiteHarness;
  let context: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    // No cooldown: the journey presses Sync now right after connecting, which queued a sync of its own.
    h = await startSiteHarness({ queues: true, env: { SYNC_NOW_COOLDOWN_SECONDS: '0' } });
    profile = mkdtempSync(path.join(tmpdir(), 'tributary-journey-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: DESKTOP,
      acceptDownloads: true,
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
    mkdirSync(RESULTS, { recursive: true });
  }, 90_000);

  afterAll(async () => {
    await context?.close();
    await h?.close();
    if (profile !== undefined) rmSync(profile, { recursive: true, force: true });
  });

  it('should sign up, connect, sync, browse, change a flow, disconnect, export and delete the account', async () => {
    const stamp = Date.now().toString(36);
    const athlete = (await h.control('POST', '/strava/athletes', { firstname: 'Jo', lastname: `Journey${stamp}` })) as {
      athlete: { id: number };
    };
    const athleteId = String(athlete.athlete.id);
    const activityName = `Journey tempo run ${stamp}`;
    await h.control('POST', '/strava/activities', {
      athlete: athleteId,
      name: activityName,
      spec: { start: new Date(Date.now() - 3 * 86_400_000).toISOString(), durationSeconds: 1800, sport: 'Run' },
    });
    const garmin = { username: `journey-${stamp}@example.test`, password: 'correct horse battery' };
    await h.control('POST', '/garmin/accounts', garmin);

    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text())) errors.push(msg.text());
    });

    await step('sign up by connecting sandbox Strava', async () => {
      await page.goto(`${h.url}/`);
      await shot(page, 'landing-1280');
      await page.getByRole('link', { name: 'Connect Strava' }).click();
      await page.waitForURL((url) => url.href.startsWith(h.sandbox.urls.strava));
      await shot(page, 'strava-consent-1280');
      // The consent page as a person uses it: pick the athlete, leave every scope ticked, authorize.
      await page.selectOption('select[name="athlete"]', athleteId);
      await page.click('#authorize');
      await page.waitForURL(/\/dashboard/);
      await page.locator('[data-connection="strava"]').waitFor();
    });
    const userId = (
      await h.database.db
        .selectFrom('connections')
        .select('user_id')
        .where('service', '=', 'strava')
        .where('external_user_id', '=', athleteId)
        .executeTakeFirstOrThrow()
    ).user_id;

    await step('connect sandbox Garmin with username and password', async () => {
      await page.getByRole('link', { name: /Connect Garmin/ }).click();
      await page.fill('input[name="username"]', garmin.username);
      await page.fill('input[name="password"]', garmin.password);
      await page.locator('form[action="/connect/garmin_connect/login"] button[type="submit"]').click();
      await page.waitForURL(/\/dashboard/);
      await page.locator('[data-connection="garmin_connect"]').waitFor();
      await shot(page, 'dashboard-connected-1280');
    });

    await step('press Sync now and watch the progress finish', async () => {
      // The worker starts now, so the sync runs with both services connected.
      await h.startWorker();
      await page.getByRole('button', { name: 'Sync now' }).click();
      const status = page.locator('[data-sync-status]');
      await status.waitFor();
      // The page's script polls the status API and updates these attributes until the run is over.
      await page
        .locator('[data-sync-status][data-active="false"]:is([data-state="succeeded"], [data-state="partial"])')
        .waitFor({ timeout: 60_000 });
      await shot(page, 'dashboard-synced-1280');
    });

    const recordId = await step('see the activity listed as present on Strava and Garmin', async () => {
      await page.goto(`${h.url}/activities`);
      const row = page.locator('[data-activity]', { hasText: activityName });
      await row.waitFor();
      const id = await row.getAttribute('data-activity');
      expect(await row.locator('[data-presence="strava"]').getAttribute('data-state')).toBe('present');
      expect(await row.locator('[data-presence="garmin_connect"]').getAttribute('data-state')).toBe('present');
      await shot(page, 'activities-1280');
      return id ?? '';
    });

    await step('open the activity and see its track on the map', async () => {
      await page.goto(`${h.url}/activities/${recordId}`);
      await page.getByRole('heading', { name: activityName }).waitFor();
      const map = page.locator('#activity-map');
      await map.waitFor();
      // Leaflet draws the track as an SVG path, with or without map tiles.
      await map.locator('path.leaflet-interactive').first().waitFor({ timeout: 15_000 });
      await shot(page, 'activity-map-1280');
    });

    await step('stop sending Strava activities to Garmin (a flow exception)', async () => {
      await page.goto(`${h.url}/dashboard`);
      await page.locator('[data-connection="strava"]').getByRole('link', { name: 'Settings' }).click();
      await page.waitForURL(/\/connections\/[^/]+\/settings/);
      const sendToGarmin = page.locator('input[name="sendTo"]');
      expect(await sendToGarmin.count()).toBe(1);
      await sendToGarmin.uncheck();
      await page.getByRole('button', { name: /Save/ }).click();
      await page.waitForLoadState();
      const flows = await h.database.db
        .selectFrom('flow_exceptions')
        .select(['source_connection_id', 'target_connection_id'])
        .where('user_id', '=', userId)
        .execute();
      expect(flows).toHaveLength(1);
      await page.goto(page.url());
      expect(await page.locator('input[name="sendTo"]').isChecked()).toBe(false);
      await shot(page, 'connection-settings-1280');
    });

    await step('see every page fit a 390 px phone screen', async () => {
      const phone = await context.newPage();
      try {
        await phone.setViewportSize(PHONE);
        for (const [name, url] of [
          ['dashboard', '/dashboard'],
          ['activities', '/activities'],
          ['activity', `/activities/${recordId}`],
          ['settings', '/settings'],
        ] as const) {
          await phone.goto(`${h.url}${url}`);
          await phone.locator('main').waitFor();
          await shot(phone, `${name}-390`);
          await fitsWidth(phone);
        }
      } finally {
        await phone.close();
      }
    });

    await step('disconnect Garmin', async () => {
      await page.goto(`${h.url}/dashboard`);
      await page.getByRole('button', { name: /Disconnect Garmin/ }).click();
      await page.waitForURL(/\/dashboard/);
      await page.locator('[data-connection="strava"]').waitFor();
      expect(await page.locator('[data-connection="garmin_connect"]').count()).toBe(0);
      const left = await h.database.db
        .selectFrom('connections')
        .select('service')
        .where('user_id', '=', userId)
        .execute();
      expect(left.map((c) => c.service)).toEqual(['strava']);
    });

    await step('export all my data as a zip', async () => {
      await page.goto(`${h.url}/settings`);
      const [download] = await Promise.all([
        page.waitForEvent('download', { timeout: 30_000 }),
        page.getByRole('link', { name: 'Download my data' }).click(),
      ]);
      const file = path.join(RESULTS, 'journey-export.zip');
      await download.saveAs(file);
      const bytes = readFileSync(file);
      // A zip archive (local file header) holding at least the index and the one activity's original.
      expect(bytes.subarray(0, 4).toString('hex')).toBe('504b0304');
      expect(bytes.includes(Buffer.from('.fit')) || bytes.includes(Buffer.from('.tcx'))).toBe(true);
      await shot(page, 'settings-1280');
    });

    await step('delete the account', async () => {
      await page.fill('#deleteConfirm', 'DELETE');
      await page.getByRole('button', { name: 'Delete my account' }).click();
      await page.waitForURL((url) => !url.pathname.startsWith('/settings'));
      const user = await h.database.db.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst();
      expect(user).toBeUndefined();
      await page.goto(`${h.url}/dashboard`);
      expect(new URL(page.url()).pathname).toBe('/');
      await shot(page, 'deleted-1280');
    });

    expect(errors).toEqual([]);
  }, 240_000);
});
