import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import { type ActivityFormat } from '@tributary/activity';
import { decodeActivity, detectFormat } from '@tributary/formats';
import { ActivityOriginalRepository, ActivityRecordRepository } from '@tributary/db';
import { JobName, QueueName, jobIdFor } from '@tributary/queue';
import { buildOpenApiDocument } from '../../apps/web/src/openapi/openapi.setup';
import { type SiteHarness, startSiteHarness } from './site-harness.util';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const RESULTS = path.resolve(__dirname, '../../test-results');
const FIXTURES = path.resolve(__dirname, '../../../shared/fixtures');

interface Athlete {
  athlete: { id: number };
}

interface ApiPage {
  items: { id: string; presence: { service: string; shownState: string; reason: string }[] }[];
  next: string | null;
}

/**
 * The activities pages in real headless Chromium: a user signed in through the sandbox's Strava consent page, with
 * activities put straight into the hub's tables (a run with a stored FIT original, a ride with power, one whose file
 * no service can supply) and a second user whose activity must stay out of reach.
 */
describe('activities, activity detail and stats in headless Chromium (e2e)', () => {
  let h: SiteHarness;
  let context: BrowserContext;
  let profile: string;
  let userId: string;
  const ids = { run: '', ride: '', nofile: '', other: '' };
  const cspErrors: string[] = [];

  function watch(page: Page): Page {
    page.on('console', (m) => {
      if (m.type() === 'error') cspErrors.push(m.text());
    });
    page.on('pageerror', (e) => cspErrors.push(e.message));
    return page;
  }

  async function rowIds(page: Page): Promise<(string | null)[]> {
    const out: (string | null)[] = [];
    for (const row of await page.locator('[data-activity]').all()) out.push(await row.getAttribute('data-activity'));
    return out;
  }

  async function seed(): Promise<void> {
    const { db } = h.database;
    const records = new ActivityRecordRepository(db);
    const originals = new ActivityOriginalRepository(db);
    const strava = await db
      .selectFrom('connections')
      .select('id')
      .where('user_id', '=', userId)
      .where('service', '=', 'strava')
      .executeTakeFirstOrThrow();
    const garmin = await db
      .insertInto('connections')
      .values({ user_id: userId, service: 'garmin_connect', external_user_id: `garmin-${userId}` })
      .returning('id')
      .executeTakeFirstOrThrow();
    const fit = (name: string) => new Uint8Array(readFileSync(path.join(FIXTURES, 'fit', name)));
    const runBytes = fit('activity-small-fenix2-run.fit');
    const rideBytes = fit('fitparser_examples_road-with-power.fit');
    const run = await records.upsert(userId, {
      uid: 'e2e-run',
      startAt: new Date('2015-08-15T14:45:08Z'),
      endAt: new Date('2015-08-15T15:35:08Z'),
      timezone: 'Europe/Berlin',
      type: 'running',
      name: 'Fenix <run>',
      distance: 8000,
    });
    const ride = await records.upsert(userId, {
      uid: 'e2e-ride',
      startAt: new Date('2026-01-19T12:57:15Z'),
      endAt: new Date('2026-01-19T14:17:15Z'),
      type: 'road_cycling',
      name: 'Power ride',
      distance: 30000,
    });
    const nofile = await records.upsert(userId, {
      uid: 'e2e-nofile',
      startAt: new Date('2024-03-01T07:00:00Z'),
      endAt: new Date('2024-03-01T07:45:00Z'),
      type: 'walking',
      name: 'Lost walk',
      distance: 4200,
    });
    await originals.put(userId, run.id, { format: 'fit', bytes: runBytes, sourceConnectionId: strava.id });
    await originals.put(userId, ride.id, { format: 'fit', bytes: rideBytes, sourceConnectionId: strava.id });
    for (const r of [run, ride]) {
      await records.setPresence(userId, r.id, strava.id, { state: 'present', reasonCode: 'source', remoteId: r.uid });
    }
    await records.recordFailure(userId, run.id, garmin.id, {
      reasonCode: 'upload',
      reasonDetail: 'HTTP 500 from the sandbox',
      nextAttemptAt: new Date(Date.now() + 3_600_000),
    });
    await records.setPresence(userId, ride.id, garmin.id, { state: 'excluded', reasonCode: 'flow' });

    const other = await db
      .insertInto('users')
      .values({ email: `other-${userId}@example.test` })
      .returning('id')
      .executeTakeFirstOrThrow();
    const otherRecord = await records.upsert(other.id, {
      uid: 'e2e-other',
      startAt: new Date('2025-01-01T10:00:00Z'),
      type: 'running',
      name: 'Not yours',
    });
    Object.assign(ids, { run: run.id, ride: ride.id, nofile: nofile.id, other: otherRecord.id });
  }

  beforeAll(async () => {
    h = await startSiteHarness({ queues: true });
    profile = mkdtempSync(path.join(tmpdir(), 'tributary-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 390, height: 844 },
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
    const created = (await h.control('POST', '/strava/athletes', {
      firstname: 'Ada',
      lastname: 'Activities',
    })) as Athlete;
    const page = await context.newPage();
    await page.goto(`${h.url}/connect/strava`);
    await page.waitForURL((url) => url.href.startsWith(h.sandbox.urls.strava));
    await page.selectOption('select[name="athlete"]', String(created.athlete.id));
    await page.click('#authorize');
    await page.waitForURL(`${h.url}/dashboard?notice=connected`);
    await page.close();
    const row = await h.database.db
      .selectFrom('connections')
      .select('user_id')
      .where('service', '=', 'strava')
      .where('external_user_id', '=', String(created.athlete.id))
      .executeTakeFirstOrThrow();
    userId = row.user_id;
    await seed();
    mkdirSync(RESULTS, { recursive: true });
  }, 90_000);

  afterAll(async () => {
    await context?.close();
    await h?.close();
    if (profile !== undefined) rmSync(profile, { recursive: true, force: true });
  });

  it('should list every activity with where it is and why not, filter it, and fit 390 px', async () => {
    const page = watch(await context.newPage());
    try {
      await page.goto(`${h.url}/activities`);
      await page.getByRole('heading', { level: 1, name: 'Activities' }).waitFor();
      const rows = page.locator('[data-activity]');
      expect(await rowIds(page)).toEqual([ids.ride, ids.nofile, ids.run]);
      const run = page.locator(`[data-activity="${ids.run}"]`);
      expect(await run.locator('h2').textContent()).toBe('Fenix <run>');
      expect(await run.locator('[data-presence="strava"]').getAttribute('data-state')).toBe('present');
      const garmin = run.locator('[data-presence="garmin_connect"]');
      expect(await garmin.getAttribute('data-state')).toBe('missing');
      expect(await garmin.textContent()).toContain('Copying failed after 1 attempt');
      const ride = page.locator(`[data-activity="${ids.ride}"] [data-presence="garmin_connect"]`);
      expect(await ride.getAttribute('data-state')).toBe('excluded');
      expect(await ride.textContent()).toContain('You turned off copying between these services');
      expect(Number(await page.evaluate<unknown>('document.documentElement.scrollWidth'))).toBeLessThanOrEqual(390);
      await page.screenshot({ path: path.join(RESULTS, 'activities-390.png'), fullPage: true });

      // GarminSync's "missing" mode through the real form.
      await page.selectOption('select[name="status"]', 'missing');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.waitForURL(/status=missing/);
      expect(await rowIds(page)).toEqual([ids.run]);

      await page.goto(`${h.url}/activities`);
      await page.selectOption('select[name="type"]', 'road_cycling');
      await page.fill('input[name="from"]', '2026-01-01');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.waitForURL(/type=road_cycling/);
      expect(await rowIds(page)).toEqual([ids.ride]);

      await page.goto(`${h.url}/activities?service=strava&status=synced`);
      expect(await rows.count()).toBe(2);
    } finally {
      await page.close();
    }
  }, 60_000);

  it('should page through the list with a keyset cursor', async () => {
    const first = (await (await context.request.get(`${h.url}/api/activities?limit=2`)).json()) as ApiPage;
    expect(first.items.map((i) => i.id)).toEqual([ids.ride, ids.nofile]);
    expect(first.next).not.toBeNull();
    const second = (await (
      await context.request.get(`${h.url}/api/activities?limit=2&after=${first.next ?? ''}`)
    ).json()) as ApiPage;
    expect(second.items.map((i) => i.id)).toEqual([ids.run]);
    expect(second.next).toBeNull();
    const missing = (await (await context.request.get(`${h.url}/api/activities?status=missing`)).json()) as ApiPage;
    expect(missing.items.map((i) => i.id)).toEqual([ids.run]);
    expect(missing.items[0]?.presence.find((p) => p.service === 'garmin_connect')?.shownState).toBe('missing');
    expect((await context.request.get(`${h.url}/api/activities?from=yesterday`)).status()).toBe(400);
    const documented = Object.keys(buildOpenApiDocument(h.app).paths);
    expect(documented).toEqual(expect.arrayContaining(['/api/activities', '/api/activities/{id}']));

    const page = await context.newPage();
    try {
      await page.goto(`${h.url}/activities`);
      expect(await page.locator('a[rel="next"]').count()).toBe(0);
    } finally {
      await page.close();
    }
  });

  it('should draw the track with Leaflet without tiles, and show charts, laps and stats at 390 px', async () => {
    const page = watch(await context.newPage());
    try {
      await page.goto(`${h.url}/activities/${ids.run}`);
      await page.getByRole('heading', { level: 1, name: 'Fenix <run>' }).waitFor();
      const line = page.locator('#activity-map .leaflet-overlay-pane svg path').first();
      await line.waitFor({ timeout: 15_000 });
      expect((await line.getAttribute('d'))?.length ?? 0).toBeGreaterThan(100);
      expect(await page.locator('#activity-map[data-map-ready="true"]').count()).toBe(1);
      // No tile layer: nothing is fetched from anywhere but the hub.
      expect(await page.locator('.leaflet-tile').count()).toBe(0);
      for (const chart of ['chart-elevation', 'chart-hr', 'chart-speed']) {
        expect(await page.locator(`[data-chart="${chart}"] svg path.line`).count()).toBe(1);
      }
      expect(await page.locator('table.laps tbody tr').count()).toBe(4);
      expect(await page.locator('dl.stats').textContent()).toContain('Average heart rate');
      expect(Number(await page.evaluate<unknown>('document.documentElement.scrollWidth'))).toBeLessThanOrEqual(390);
      const shot = path.join(RESULTS, 'activity-detail-390.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(statSync(shot).size).toBeGreaterThan(1000);

      await page.goto(`${h.url}/activities/${ids.ride}`);
      await page.locator('#activity-map .leaflet-overlay-pane svg path').first().waitFor({ timeout: 15_000 });
      expect(await page.locator('[data-chart="chart-power"] svg path.line').count()).toBe(1);
    } finally {
      await page.close();
    }
    expect(cspErrors).toEqual([]);
  }, 60_000);

  it('should show the recorded stats and say why when the file cannot be had', async () => {
    const page = await context.newPage();
    try {
      const res = await page.goto(`${h.url}/activities/${ids.nofile}`);
      expect(res?.status()).toBe(200);
      expect(await page.getByRole('alert').textContent()).toContain('The activity file could not be read');
      expect(await page.locator('dl.stats').textContent()).toContain('4.20 km');
      expect(await page.locator('#activity-map').count()).toBe(0);
    } finally {
      await page.close();
    }
  });

  it('should download the original and FIT, TCX and GPX files that decode', async () => {
    const original = await context.request.get(`${h.url}/activities/${ids.run}/download?format=original`);
    expect(original.status()).toBe(200);
    expect(
      Buffer.compare(await original.body(), readFileSync(path.join(FIXTURES, 'fit/activity-small-fenix2-run.fit'))),
    ).toBe(0);
    for (const format of ['fit', 'tcx', 'gpx'] as ActivityFormat[]) {
      const res = await context.request.get(`${h.url}/activities/${ids.run}/download?format=${format}`);
      expect(res.status()).toBe(200);
      expect(res.headers()['content-disposition']).toMatch(new RegExp(`^attachment; filename=".+\\.${format}"`));
      const bytes = new Uint8Array(await res.body());
      expect(detectFormat(bytes)).toBe(format);
      const decoded = decodeActivity(bytes, format);
      expect(decoded.samples.filter((s) => s.lat !== undefined).length).toBeGreaterThan(1000);
    }
    // Through a real click too: the browser saves it as a download.
    const page = await context.newPage();
    try {
      await page.goto(`${h.url}/activities/${ids.run}`);
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('link', { name: 'Download Fenix <run> as GPX' }).click(),
      ]);
      expect(download.suggestedFilename()).toMatch(/\.gpx$/);
    } finally {
      await page.close();
    }
    expect((await context.request.get(`${h.url}/activities/${ids.run}/download?format=exe`)).status()).toBe(400);
    expect((await context.request.get(`${h.url}/activities/${ids.nofile}/download?format=gpx`)).status()).toBe(404);
  }, 60_000);

  it("should keep another user's activity out of reach on every route", async () => {
    for (const route of [
      `/activities/${ids.other}`,
      `/activities/${ids.other}/download?format=original`,
      `/api/activities/${ids.other}`,
      '/activities/not-a-uuid',
    ]) {
      expect([route, (await context.request.get(`${h.url}${route}`)).status()]).toEqual([route, 404]);
    }
    const list = (await (await context.request.get(`${h.url}/api/activities`)).json()) as ApiPage;
    expect(list.items.map((i) => i.id)).not.toContain(ids.other);
    // State changes by id are refused too (the form's CSRF token is valid; the id is not the user's).
    const page = await context.newPage();
    try {
      await page.goto(`${h.url}/activities`);
      const csrf = await page.locator('meta[name="csrf-token"]').getAttribute('content');
      for (const action of ['resync', 'forget']) {
        const res = await context.request.post(`${h.url}/activities/${ids.other}/${action}`, {
          form: { _csrf: csrf ?? '' },
          maxRedirects: 0,
        });
        expect([action, res.status()]).toEqual([action, 404]);
      }
    } finally {
      await page.close();
    }
    const still = await h.database.db
      .selectFrom('activity_records')
      .select('id')
      .where('id', '=', ids.other)
      .executeTakeFirst();
    expect(still?.id).toBe(ids.other);
  });

  it('should resync an activity (clearing its failure and queueing a full sync) and forget another', async () => {
    const page = await context.newPage();
    try {
      await page.goto(`${h.url}/activities/${ids.run}`);
      await page.getByText('Resync or forget').click();
      await page.getByRole('button', { name: 'Resync' }).click();
      await page.waitForURL(`${h.url}/activities/${ids.run}?notice=resynced`);
      expect(await page.getByRole('status').textContent()).toContain('a full sync was queued');
      const garmin = page.locator('[data-presence="garmin_connect"]');
      expect(await garmin.getAttribute('data-state')).toBe('missing');
      expect(await garmin.textContent()).toContain('You asked for a resync');
      const job = await h
        .jobs!.queue(QueueName.Sync)
        .getJob(jobIdFor({ name: JobName.SyncUser, data: { userId, trigger: 'manual' } }));
      expect(job?.data).toMatchObject({ userId, exhaustive: true });

      await page.goto(`${h.url}/activities`);
      const row = page.locator(`[data-activity="${ids.nofile}"]`);
      await row.getByText('Resync or forget').click();
      expect(await row.textContent()).toContain('Nothing is deleted at any service.');
      await row.getByRole('button', { name: 'Forget' }).click();
      await page.waitForURL(`${h.url}/activities?notice=forgotten`);
      expect(await page.locator(`[data-activity="${ids.nofile}"]`).count()).toBe(0);
      expect(await page.locator('[data-activity]').count()).toBe(2);
    } finally {
      await page.close();
    }
  }, 60_000);

  it('should chart distance and time per week and per type', async () => {
    const now = new Date();
    const records = new ActivityRecordRepository(h.database.db);
    for (const [i, type] of ['running', 'running', 'cycling'].entries()) {
      const startAt = new Date(now.getTime() - (i + 1) * 86_400_000 * 3);
      await records.upsert(userId, {
        uid: `e2e-week-${i}`,
        startAt,
        endAt: new Date(startAt.getTime() + 3_600_000),
        type,
        distance: 10_000 * (i + 1),
      });
    }
    const page = watch(await context.newPage());
    try {
      await page.goto(`${h.url}/stats`);
      await page.getByRole('heading', { level: 1, name: 'Stats' }).waitFor();
      expect(await page.locator('[data-stats-total]').textContent()).toContain('3 activities');
      for (const chart of ['chart-week-distance', 'chart-week-time', 'chart-type-time']) {
        expect(await page.locator(`[data-chart="${chart}"] svg rect`).count()).toBeGreaterThan(0);
      }
      expect(await page.locator('table.by-type [data-type="running"] td').first().textContent()).toBe('2');
      expect(Number(await page.evaluate<unknown>('document.documentElement.scrollWidth'))).toBeLessThanOrEqual(390);
      await page.screenshot({ path: path.join(RESULTS, 'stats-390.png'), fullPage: true });
    } finally {
      await page.close();
    }
  }, 60_000);
});
