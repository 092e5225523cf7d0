import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import { ActivityRecordRepository, SyncErrorRepository, SyncRunRepository } from '@tributary/db';
import { type SiteHarness, startSiteHarness } from './site-harness.util';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const RESULTS = path.resolve(__dirname, '../../test-results');

interface Athlete {
  athlete: { id: number };
}

/**
 * Dashboard, per-connection settings, account settings and password login in headless Chromium at phone width,
 * against the hub (with queues, no worker: the test plays the worker's part on sync_runs so progress is exact).
 */
describe('dashboard and settings in headless Chromium (e2e)', () => {
  let h: SiteHarness;
  let context: BrowserContext;
  let profile: string;
  let page: Page;
  let userId: string;
  let stravaId: string;
  let garminId: string;
  const password = 'a long enough passphrase';
  const email = `pia-${Date.now()}@example.test`;

  async function shot(name: string): Promise<void> {
    mkdirSync(RESULTS, { recursive: true });
    await page.screenshot({ path: path.join(RESULTS, `${name}-390.png`), fullPage: true });
    expect(Number(await page.evaluate<unknown>('document.documentElement.scrollWidth'))).toBeLessThanOrEqual(390);
  }

  async function connectionId(service: string): Promise<{ id: string; user_id: string }> {
    return h.database.db
      .selectFrom('connections')
      .select(['id', 'user_id'])
      .where('service', '=', service)
      .where('user_id', '=', userId)
      .executeTakeFirstOrThrow();
  }

  beforeAll(async () => {
    h = await startSiteHarness({ queues: true });
    profile = mkdtempSync(path.join(tmpdir(), 'tributary-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 390, height: 844 },
      acceptDownloads: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    page = await context.newPage();

    // Sign up by connecting sandbox Strava, then add Garmin with its login form.
    const created = (await h.control('POST', '/strava/athletes', { firstname: 'Pia', lastname: 'Dash' })) as Athlete;
    await page.goto(`${h.url}/connect/strava`);
    await page.waitForURL((url) => url.href.startsWith(h.sandbox.urls.strava));
    await page.selectOption('select[name="athlete"]', String(created.athlete.id));
    await page.click('#authorize');
    await page.waitForURL(`${h.url}/dashboard?notice=connected`);
    const row = await h.database.db
      .selectFrom('connections')
      .select(['id', 'user_id'])
      .where('service', '=', 'strava')
      .where('external_user_id', '=', String(created.athlete.id))
      .executeTakeFirstOrThrow();
    userId = row.user_id;
    stravaId = row.id;
    const garminUser = `pia-${Date.now()}@garmin.test`;
    await h.control('POST', '/garmin/accounts', { username: garminUser, password: 'garmin secret', mfa: false });
    await page.goto(`${h.url}/connect/garmin_connect`);
    await page.fill('#username', garminUser);
    await page.fill('#password', 'garmin secret');
    await page.getByRole('button', { name: 'Connect Garmin Connect' }).click();
    await page.waitForURL(`${h.url}/dashboard?notice=connected`);
    garminId = (await connectionId('garmin_connect')).id;
  }, 90_000);

  afterAll(async () => {
    await context?.close();
    await h?.close();
    if (profile !== undefined) rmSync(profile, { recursive: true, force: true });
  });

  it('should show live progress of Sync now, then the activity in the feed, and the cooldown', async () => {
    await page.goto(`${h.url}/dashboard`);
    expect(await page.locator('[data-connection="strava"] .status').first().textContent()).toBe('OK');
    await page.getByRole('button', { name: 'Sync now' }).click();
    await page.locator('[data-sync-status][data-state="queued"]').waitFor();

    const runs = new SyncRunRepository(h.database.db);
    const run = await runs.findActive(userId);
    expect(run?.trigger).toBe('manual');
    await runs.start(userId, run!.id, 'e2e-worker');
    await runs.heartbeat(userId, run!.id, { phase: 'listing strava', progress: 0.1 });
    await page.locator('[data-sync-status]', { hasText: 'listing Strava' }).waitFor();
    await runs.heartbeat(userId, run!.id, { phase: 'processing 1/2', progress: 0.42 });
    await page.locator('[data-sync-status]', { hasText: '42 %' }).waitFor();
    expect(await page.locator('[data-sync-progress]').getAttribute('value')).toBe('42');
    await shot('dashboard-syncing');

    const records = new ActivityRecordRepository(h.database.db);
    const record = await records.upsert(userId, {
      uid: 'e2e-morning-run',
      startAt: new Date('2026-03-01T07:00:00Z'),
      endAt: new Date('2026-03-01T07:45:00Z'),
      type: 'Running',
      name: 'Morning run',
      distance: 8400,
    });
    await records.setPresence(userId, record.id, stravaId, { state: 'present' });
    await records.setPresence(userId, record.id, garminId, { state: 'pending', reasonCode: 'deferred' });
    await runs.finish(userId, run!.id, { status: 'succeeded', counts: { listed: 1, uploaded: 1 } });
    await page.locator('[data-sync-status][data-state="succeeded"]', { hasText: 'done' }).waitFor();
    // The feed is refreshed from the server once the sync ends, without a reload.
    const item = page.locator(`[data-activity="${record.id}"]`);
    await item.waitFor();
    expect(await item.locator('[data-presence="strava"]').getAttribute('data-state')).toBe('present');
    expect(await item.locator('[data-presence="garmin_connect"]').getAttribute('data-state')).toBe('pending');
    expect(await page.locator('[data-connection="strava"]').count()).toBe(1);

    await page.getByRole('button', { name: 'Sync now' }).click();
    await page.locator('[data-sync-cooldown]', { hasText: 'available again in' }).waitFor();
    await shot('dashboard-done');
  }, 60_000);

  it('should offer the one-click fix for blocking errors: reconnect, and "I\'ve made space"', async () => {
    const errors = new SyncErrorRepository(h.database.db);
    await errors.record(userId, {
      connectionId: garminId,
      scope: 'connection',
      code: 'full',
      clearGroup: 'account_full',
      intervention: 'account_full',
      message: 'Garmin Connect storage is full',
      blocking: true,
    });
    await errors.record(userId, {
      connectionId: stravaId,
      scope: 'connection',
      code: 'auth',
      clearGroup: 'reauth',
      intervention: 'reauth',
      message: 'Strava access was revoked',
      blocking: true,
    });
    await page.goto(`${h.url}/dashboard`);
    expect(await page.getByRole('link', { name: 'Reconnect Strava' }).getAttribute('href')).toBe('/connect/strava');
    expect(await page.locator('[data-connection="garmin_connect"] [data-problem]').textContent()).toBe('account full');
    await shot('dashboard-errors');
    await page.getByRole('button', { name: "I've made space" }).click();
    await page.waitForURL(`${h.url}/dashboard?notice=resolved`);
    expect(await page.getByText('Garmin Connect storage is full').count()).toBe(0);
    const open = await errors.listOpen(userId);
    expect(open.map((e) => e.code)).toEqual(['auth']);
  }, 60_000);

  it('should change a flow exception and the private-activities setting of a connection', async () => {
    await page.goto(`${h.url}/dashboard`);
    await page.locator('[data-connection="strava"]').getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { level: 1, name: 'Strava settings' }).waitFor();
    const sendToGarmin = page.getByRole('group', { name: 'Send Strava activities to' }).getByLabel('Garmin Connect');
    expect(await sendToGarmin.isChecked()).toBe(true);
    await sendToGarmin.uncheck();
    await page.getByLabel('Also copy activities that are private at Strava').check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(`${h.url}/connections/${stravaId}/settings?notice=saved`);
    expect(await sendToGarmin.isChecked()).toBe(false);
    const flows = await h.database.db.selectFrom('flow_exceptions').selectAll().where('user_id', '=', userId).execute();
    expect(flows.map((f) => [f.source_connection_id, f.target_connection_id])).toEqual([[stravaId, garminId]]);
    const config = await h.database.db
      .selectFrom('connections')
      .select('config')
      .where('id', '=', stravaId)
      .executeTakeFirstOrThrow();
    expect(config.config.syncPrivate).toBe(true);
    await shot('connection-settings');
  }, 60_000);

  it('should validate and save account settings, and turn on password login', async () => {
    await page.goto(`${h.url}/settings`);
    await page.getByLabel('Manual: only when I press Sync now').check();
    await page.fill('#timezone', 'Mars/Olympus');
    await page.fill('#uploadDelayMinutes', '20');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('"Mars/Olympus" is not a time zone name').first().waitFor();
    expect(await page.inputValue('#timezone')).toBe('Mars/Olympus');
    expect(await page.inputValue('#uploadDelayMinutes')).toBe('20');

    await page.fill('#timezone', 'Europe/Berlin');
    await page.getByLabel('Manual: only when I press Sync now').check();
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.waitForURL(`${h.url}/settings?notice=saved`);
    const user = await h.database.db
      .selectFrom('users')
      .select('settings')
      .where('id', '=', userId)
      .executeTakeFirstOrThrow();
    expect(user.settings).toMatchObject({
      autoSync: false,
      uploadDelaySeconds: 1200,
      timezoneFallback: 'Europe/Berlin',
    });

    await page.fill('#loginEmail', email);
    await page.fill('#newPassword', password);
    await page.fill('#confirmPassword', password);
    await page.getByRole('button', { name: 'Turn on password login' }).click();
    await page.waitForURL(`${h.url}/settings?notice=password`);
    const login = await h.database.db
      .selectFrom('users')
      .select(['email', 'password_hash'])
      .where('id', '=', userId)
      .executeTakeFirstOrThrow();
    expect(login.email).toBe(email);
    expect(login.password_hash).toMatch(/^scrypt\$/);
    await shot('settings');
  }, 60_000);

  it('should refuse every new form POST without the CSRF token', async () => {
    const routes = [
      '/dashboard/sync',
      '/dashboard/errors/00000000-0000-4000-8000-000000000000/resolve',
      `/connections/${stravaId}/settings`,
      '/settings',
      '/settings/password',
      '/settings/password/remove',
      '/settings/delete',
      '/login',
    ];
    for (const route of routes) {
      const res = await context.request.post(`${h.url}${route}`, {
        form: { confirm: 'DELETE', sync: 'auto', email, password },
        maxRedirects: 0,
      });
      expect([route, res.status()]).toEqual([route, 403]);
    }
    const user = await h.database.db.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst();
    expect(user?.id).toBe(userId);
  }, 60_000);

  it('should stream the data export as a zip, with progress in the page', async () => {
    const direct = await context.request.get(`${h.url}/settings/export`);
    expect(direct.status()).toBe(200);
    expect(direct.headers()['content-type']).toBe('application/zip');
    expect((await direct.body()).subarray(0, 2).toString()).toBe('PK');

    await page.goto(`${h.url}/settings`);
    const download = page.waitForEvent('download');
    await page.getByRole('link', { name: 'Download my data' }).click();
    await page.locator('[data-export-status][data-state="done"]').waitFor();
    expect((await download).suggestedFilename()).toMatch(/^tributary-export-\d{4}-\d{2}-\d{2}\.zip$/);
  }, 60_000);

  it('should sign in with email and password after signing out, and throttle wrong passwords', async () => {
    await page.goto(`${h.url}/dashboard`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${h.url}/`);
    await page.getByRole('link', { name: 'Sign in with email' }).click();
    await page.fill('#email', email);
    await page.fill('#password', 'not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That email and password do not match.').waitFor();
    await shot('login');
    await page.fill('#password', password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${h.url}/dashboard`);
    await page.getByRole('heading', { level: 1, name: 'Your services' }).waitFor();

    // Another browser hammering someone's email is stopped after five tries (per email, per process).
    const other = `nobody-${Date.now()}@example.test`;
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${h.url}/login`, { method: 'GET' });
      const cookie = res.headers.get('set-cookie')?.split(';')[0] ?? '';
      const csrf = /name="_csrf" value="([^"]+)"/.exec(await res.text())?.[1] ?? '';
      const post = await fetch(`${h.url}/login`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: csrf, email: other, password: 'guess' }).toString(),
        redirect: 'manual',
      });
      statuses.push(post.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
  }, 60_000);

  it('should delete the account after confirmation, revoking access and signing out', async () => {
    await page.goto(`${h.url}/settings`);
    await page.getByRole('button', { name: 'Delete my account' }).click();
    // The browser's own validation requires the confirmation; without it nothing is sent.
    expect(page.url()).toBe(`${h.url}/settings`);
    await page.fill('#deleteConfirm', 'delete');
    await page.getByRole('button', { name: 'Delete my account' }).click();
    await page.waitForURL(`${h.url}/`);
    const left = await h.database.db.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst();
    expect(left).toBeUndefined();
    const conns = await h.database.db.selectFrom('connections').select('id').where('user_id', '=', userId).execute();
    expect(conns).toEqual([]);
    await page.goto(`${h.url}/dashboard`);
    expect(page.url()).toBe(`${h.url}/`);
  }, 60_000);
});
