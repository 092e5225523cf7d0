import { ActivityQueryRepository, ActivityRecordRepository, ExclusionRepository } from '@tributary/db';
import { newActivityRecord, newConnection, newUser, unique } from './support/factories';
import { openTestDb, type TestDb } from './support/test-db';

describe(ActivityQueryRepository.name, () => {
  let t: TestDb;
  let sut: ActivityQueryRepository;
  let records: ActivityRecordRepository;
  let exclusions: ExclusionRepository;
  beforeAll(() => {
    t = openTestDb();
    sut = new ActivityQueryRepository(t.db);
    records = new ActivityRecordRepository(t.db);
    exclusions = new ExclusionRepository(t.db);
  });
  afterAll(() => t.close());

  const day = (d: number) => new Date(Date.UTC(2024, 4, d, 7));

  /** A user with Strava and Garmin and three activities: synced, missing at Garmin, failed at Garmin. */
  async function world() {
    const user = await newUser(t.db);
    const strava = await newConnection(t.db, user.id, { service: 'strava' });
    const garmin = await newConnection(t.db, user.id, { service: 'garmin_connect' });
    const synced = await newActivityRecord(t.db, user.id, { startAt: day(1), type: 'running' });
    const missing = await newActivityRecord(t.db, user.id, { startAt: day(2), type: 'cycling' });
    const failed = await newActivityRecord(t.db, user.id, { startAt: day(3), type: 'running' });
    for (const r of [synced, missing, failed]) {
      await records.setPresence(user.id, r.id, strava.id, { state: 'present', reasonCode: 'source', remoteId: r.uid });
    }
    await records.setPresence(user.id, synced.id, garmin.id, { state: 'present', reasonCode: 'uploaded' });
    await records.setPresence(user.id, missing.id, garmin.id, { state: 'excluded', reasonCode: 'flow' });
    await records.recordFailure(user.id, failed.id, garmin.id, {
      reasonCode: 'upload',
      nextAttemptAt: new Date(Date.now() + 3_600_000),
    });
    return { user, strava, garmin, synced, missing, failed };
  }

  it('should list newest first with each state per connection, filtered by status, type, service and dates', async () => {
    const w = await world();
    const all = await sut.list(w.user.id);
    expect(all.items.map((i) => i.record.id)).toEqual([w.failed.id, w.missing.id, w.synced.id]);
    expect(all.next).toBeUndefined();
    const failedRow = all.items[0]!.presence.find((p) => p.service === 'garmin_connect');
    expect(failedRow).toMatchObject({ state: 'failed', reasonCode: 'upload', failureCount: 1 });

    // A flow exception is the user's choice, not a problem: only the failed one is "missing".
    expect((await sut.list(w.user.id, { status: 'missing' })).items.map((i) => i.record.id)).toEqual([w.failed.id]);
    expect((await sut.list(w.user.id, { status: 'synced' })).items.map((i) => i.record.id)).toEqual([
      w.missing.id,
      w.synced.id,
    ]);
    expect(
      (await sut.list(w.user.id, { status: 'synced', service: 'garmin_connect' })).items.map((i) => i.record.id),
    ).toEqual([w.synced.id]);
    expect((await sut.list(w.user.id, { type: 'cycling' })).items.map((i) => i.record.id)).toEqual([w.missing.id]);
    expect(
      (await sut.list(w.user.id, { from: day(2), to: new Date(day(3).getTime() - 1) })).items.map((i) => i.record.id),
    ).toEqual([w.missing.id]);
    expect((await sut.list(w.user.id, { service: 'dropbox' })).items).toEqual([]);
    expect(await sut.types(w.user.id)).toEqual(['cycling', 'running']);
  });

  it('should page with a keyset cursor, also across equal start times', async () => {
    const user = await newUser(t.db);
    const same = day(9);
    for (let i = 0; i < 5; i++) await newActivityRecord(t.db, user.id, { startAt: i < 3 ? same : day(10 + i) });
    const seen: string[] = [];
    let page = await sut.list(user.id, { limit: 2 });
    seen.push(...page.items.map((i) => i.record.id));
    while (page.next !== undefined) {
      page = await sut.list(user.id, { limit: 2, after: page.next });
      seen.push(...page.items.map((i) => i.record.id));
    }
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
  });

  it('should sum distance and duration per local week and type', async () => {
    const user = await newUser(t.db);
    // Sunday 2024-05-05 23:30 in Berlin is Sunday 21:30 UTC: still the week of Monday 2024-04-29.
    const a = await newActivityRecord(t.db, user.id, { startAt: new Date('2024-05-05T21:30:00Z'), type: 'running' });
    const b = await newActivityRecord(t.db, user.id, { startAt: new Date('2024-05-06T08:00:00Z'), type: 'running' });
    await t.db
      .updateTable('activity_records')
      .set({ timezone: 'Europe/Berlin', distance: 5000 })
      .where('id', '=', a.id)
      .execute();
    await t.db
      .updateTable('activity_records')
      .set({ timezone: 'Not/AZone', distance: 1000 })
      .where('id', '=', b.id)
      .execute();
    const totals = await sut.weeklyTotals(user.id, { from: new Date('2024-04-01Z'), to: new Date('2024-06-01Z') });
    expect(totals).toEqual([
      { week: new Date('2024-04-29T00:00:00Z'), type: 'running', count: 1, distance: 5000, duration: 1800 },
      { week: new Date('2024-05-06T00:00:00Z'), type: 'running', count: 1, distance: 1000, duration: 1800 },
    ]);
  });

  it('should reset failures and exclusions on resync and delete only the record on forget', async () => {
    const w = await world();
    await exclusions.upsert(w.user.id, w.garmin.id, { key: w.failed.uid, permanent: true, reason: 'sanity' });
    await exclusions.upsert(w.user.id, w.strava.id, { key: w.failed.uid, reason: 'tz_unknown' });
    await exclusions.upsert(w.user.id, w.garmin.id, { key: 'other-activity', reason: 'sanity', permanent: true });
    expect(await sut.resetForResync(w.user.id, w.failed.id)).toBe(true);
    const after = await sut.get(w.user.id, w.failed.id);
    expect(after?.presence.find((p) => p.service === 'garmin_connect')).toMatchObject({
      state: 'missing',
      failureCount: 0,
      nextAttemptAt: null,
      reasonCode: 'resync_requested',
    });
    expect(after?.presence.find((p) => p.service === 'strava')?.state).toBe('present');
    expect((await exclusions.listActive(w.user.id, w.garmin.id)).map((x) => x.key)).toEqual(['other-activity']);
    expect(await exclusions.listActive(w.user.id, w.strava.id)).toEqual([]);

    await t.db.insertInto('synchronized_uids').values({ connection_id: w.garmin.id, uid: w.failed.uid }).execute();
    expect(await sut.forget(w.user.id, w.failed.id)).toBe(true);
    expect(await sut.get(w.user.id, w.failed.id)).toBeUndefined();
    const known = await t.db
      .selectFrom('synchronized_uids')
      .select('uid')
      .where('connection_id', '=', w.garmin.id)
      .execute();
    expect(known.map((k) => k.uid)).toEqual([w.failed.uid]);
    expect(await sut.forget(w.user.id, w.failed.id)).toBe(false);
  });

  it("should never show or change another user's activities", async () => {
    const a = await world();
    const b = await newUser(t.db);
    await newConnection(t.db, b.id, { service: 'strava' });
    expect((await sut.list(b.id)).items).toEqual([]);
    expect((await sut.list(b.id, { service: 'strava', status: 'synced' })).items).toEqual([]);
    expect(await sut.get(b.id, a.synced.id)).toBeUndefined();
    expect(await sut.types(b.id)).toEqual([]);
    expect(await sut.weeklyTotals(b.id, { from: day(1), to: day(30) })).toEqual([]);
    await exclusions.upsert(a.user.id, a.garmin.id, { key: a.failed.uid, reason: 'sanity', permanent: true });
    expect(await sut.resetForResync(b.id, a.failed.id)).toBe(false);
    expect(await sut.forget(b.id, a.failed.id)).toBe(false);
    expect(await sut.get(b.id, unique('not-a-uuid'))).toBeUndefined();
    const still = await sut.get(a.user.id, a.failed.id);
    expect(still?.presence.find((p) => p.service === 'garmin_connect')).toMatchObject({
      state: 'failed',
      failureCount: 1,
    });
    expect((await exclusions.listActive(a.user.id, a.garmin.id)).map((x) => x.key)).toEqual([a.failed.uid]);
  });
});
