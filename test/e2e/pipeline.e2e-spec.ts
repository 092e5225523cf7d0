import { JobName, SyncPriority } from '@tributary/queue';
import {
  DROPBOX_FOLDER,
  HOUR_MS,
  type PipelineHub,
  type PipelineUser,
  activitySpec,
  startPipelineHub,
  syncIdle,
  waitUntil,
  wholeSeconds,
} from '../support/pipeline-harness.util';

/**
 * The running pipeline: the web app takes the providers' webhooks, the worker (sync role only: no scheduler, no
 * watchdog) takes the jobs from the real Redis, and every outcome is read back from the simulators' own state.
 */
describe('sync pipeline (web app + worker + sandbox)', () => {
  jest.setTimeout(120_000);
  let hub: PipelineHub;
  let a: PipelineUser;
  let b: PipelineUser;
  const day = wholeSeconds(Date.now() - 10 * 24 * HOUR_MS);
  const startsA = [day, day + 26 * HOUR_MS + 11 * 60_000, day + 50 * HOUR_MS + 23 * 60_000];
  const startsB = [day + 3 * HOUR_MS, day + 30 * HOUR_MS + 17 * 60_000, day + 74 * HOUR_MS + 5 * 60_000];

  beforeAll(async () => {
    hub = await startPipelineHub({
      web: true,
      env: { WORKER_ROLES: 'sync', SYNC_CONCURRENCY: '4' },
      sandbox: {
        strava: { uploadProcessingPolls: 0, webhookRetryDelayMs: 10 },
        garmin: { uploadProcessingPolls: 0 },
        dropbox: { webhookDebounceMs: 10, webhookRetryDelayMs: 10 },
      },
    });
    await hub.startWorker();
    a = await hub.newUser();
    b = await hub.newUser();
  }, 60_000);

  afterAll(async () => {
    await hub?.close();
  });

  const users = () => [a.userId, b.userId];
  const syncAll = async (trigger: 'connected' | 'manual') => {
    for (const userId of users()) {
      await hub.jobs.enqueue({ name: JobName.SyncUser, data: { userId, trigger } }, { priority: SyncPriority.Manual });
    }
    // The job is taken at once; wait for it to be gone and its run closed.
    await new Promise((r) => setTimeout(r, 200));
    await waitUntil('both users’ syncs', () => syncIdle(hub, users()), { timeoutMs: 60_000, intervalMs: 200 });
  };
  const runs = (userId: string) =>
    hub.database.db
      .selectFrom('sync_runs')
      .select(['trigger', 'status', 'counts'])
      .where('user_id', '=', userId)
      .orderBy('queued_at', 'asc')
      .execute();

  it('should copy every activity of each simulator to the user’s other services and never to another user', async () => {
    // Before any webhook subscription: these are found by the sync that connecting a service queues.
    await hub.control.call('POST', '/strava/activities', {
      athlete: a.athleteId,
      spec: activitySpec(startsA[0]!),
      notify: false,
    });
    await hub.control.call('POST', '/garmin/activities', {
      username: a.garminUser,
      spec: activitySpec(startsA[1]!, 'Ride'),
      privacy: 'public',
    });
    await hub.control.call('POST', '/dropbox/files', {
      account: a.dropboxAccount,
      path: `${DROPBOX_FOLDER}/run/morning.tcx`,
      spec: activitySpec(startsA[2]!),
    });
    await hub.control.call('POST', '/garmin/activities', {
      username: b.garminUser,
      spec: activitySpec(startsB[0]!),
      privacy: 'public',
    });
    await hub.control.call('POST', '/dropbox/files', {
      account: b.dropboxAccount,
      path: `${DROPBOX_FOLDER}/ride/evening.gpx`,
      spec: activitySpec(startsB[1]!, 'Ride'),
    });
    await hub.control.call('POST', '/strava/activities', {
      athlete: b.athleteId,
      spec: activitySpec(startsB[2]!),
      notify: false,
    });

    await syncAll('connected');

    const ha = await hub.holdings(a);
    const hb = await hub.holdings(b);
    expect(ha.strava).toEqual(startsA);
    expect(ha.garmin).toEqual(startsA);
    expect(ha.dropbox).toHaveLength(3);
    expect(hb.strava).toEqual(startsB);
    expect(hb.garmin).toEqual(startsB);
    expect(hb.dropbox).toHaveLength(3);
    for (const userId of users()) {
      expect(await runs(userId)).toEqual([
        expect.objectContaining({
          trigger: 'connect',
          status: 'succeeded',
          counts: expect.objectContaining({ uploaded: 6 }) as unknown,
        }),
      ]);
    }
  });

  it('should upload nothing when the users are synced again', async () => {
    const { lastSeq } = await hub.control.requests();
    const before = { a: await hub.holdings(a), b: await hub.holdings(b) };

    await syncAll('manual');

    expect(await hub.control.uploads(lastSeq)).toEqual([]);
    const listings = (await hub.control.requests(lastSeq)).requests.filter((r) => r.status === 200);
    expect(listings.length).toBeGreaterThan(0);
    expect({ a: await hub.holdings(a), b: await hub.holdings(b) }).toEqual(before);
    for (const userId of users()) {
      expect((await runs(userId)).at(-1)).toMatchObject({ trigger: 'manual', status: 'succeeded' });
    }
  });

  it('should bring an activity announced by a webhook to its destinations without a scheduled sync', async () => {
    await hub.subscribeWebhooks();
    const fromStrava = wholeSeconds(Date.now() - 2 * HOUR_MS);
    const fromDropbox = wholeSeconds(Date.now() - 5 * HOUR_MS);
    const before = { a: await hub.holdings(a), b: await hub.holdings(b) };

    // Strava pushes an activity event, Dropbox a signed change notification, each to the web app.
    await hub.control.call('POST', '/strava/activities', { athlete: a.athleteId, spec: activitySpec(fromStrava) });
    await hub.control.call('POST', '/dropbox/files', {
      account: b.dropboxAccount,
      path: `${DROPBOX_FOLDER}/run/lunch.fit`,
      spec: activitySpec(fromDropbox),
    });

    await waitUntil(
      'the announced activities at their destinations',
      async () => {
        const [ha, hb] = [await hub.holdings(a), await hub.holdings(b)];
        return (
          ha.garmin.includes(fromStrava) &&
          ha.dropbox.length === 4 &&
          hb.strava.includes(fromDropbox) &&
          hb.garmin.includes(fromDropbox)
        );
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    await hub.control.settle();
    await waitUntil('the follow-up syncs', () => syncIdle(hub, users()), { timeoutMs: 60_000, intervalMs: 200 });

    const [ha, hb] = [await hub.holdings(a), await hub.holdings(b)];
    expect(ha.strava).toEqual([...before.a.strava, fromStrava].sort((x, y) => x - y));
    expect(ha.garmin).toEqual([...before.a.garmin, fromStrava].sort((x, y) => x - y));
    expect(ha.dropbox).toHaveLength(4);
    expect(hb.strava).toEqual([...before.b.strava, fromDropbox].sort((x, y) => x - y));
    expect(hb.garmin).toEqual([...before.b.garmin, fromDropbox].sort((x, y) => x - y));
    expect(hb.dropbox).toHaveLength(4);
    for (const userId of users()) {
      const all = await runs(userId);
      expect(all.at(-1)).toMatchObject({ trigger: 'webhook', status: 'succeeded' });
      expect(all.filter((r) => r.trigger === 'schedule')).toEqual([]);
    }
  });

  it('should sync an activity announced while the user’s sync is already past its listing', async () => {
    const first = wholeSeconds(Date.now() - 7 * HOUR_MS - 17 * 60_000);
    const second = wholeSeconds(Date.now() - 9 * HOUR_MS - 41 * 60_000);
    // Slow Garmin uploads keep the first file's sync busy after it listed Dropbox.
    await hub.control.call('POST', '/faults', {
      service: 'garmin',
      kind: 'latency',
      ms: 2500,
      method: 'POST',
      path: 'upload',
      account: a.garminUser.toLowerCase(),
    });
    try {
      const { lastSeq: seq } = await hub.control.requests();
      await hub.control.call('POST', '/dropbox/files', {
        account: a.dropboxAccount,
        path: `${DROPBOX_FOLDER}/run/first.fit`,
        spec: activitySpec(first),
      });
      // Its first upload answered: the sync has listed Dropbox and is still busy with the other destination.
      await waitUntil(
        'the first file’s sync uploading',
        async () =>
          (await hub.control.uploads(seq)).some(
            (r) => r.account === a.athleteId || r.account === a.garminUser.toLowerCase(),
          ),
        { timeoutMs: 30_000, intervalMs: 20 },
      );
      // The notification finds the user's job active: the queue cannot take a second one under the same id.
      await hub.control.call('POST', '/dropbox/files', {
        account: a.dropboxAccount,
        path: `${DROPBOX_FOLDER}/run/second.fit`,
        spec: activitySpec(second),
      });
      await waitUntil(
        'both files at Strava and Garmin',
        async () => {
          const held = await hub.holdings(a);
          return [first, second].every((t) => held.strava.includes(t) && held.garmin.includes(t));
        },
        { timeoutMs: 60_000, intervalMs: 200 },
      );
    } finally {
      await hub.control.call('DELETE', '/faults');
    }
    await hub.control.settle();
    await waitUntil('the follow-up syncs', () => syncIdle(hub, users()), { timeoutMs: 60_000, intervalMs: 200 });
    const held = await hub.holdings(a);
    expect(held.strava.filter((t) => t === first || t === second)).toEqual([first, second].sort((x, y) => x - y));
    expect(held.garmin.filter((t) => t === first || t === second)).toEqual([first, second].sort((x, y) => x - y));
    expect((await runs(a.userId)).filter((r) => r.trigger === 'schedule')).toEqual([]);
  });
});
