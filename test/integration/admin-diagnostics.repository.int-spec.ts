import { sql } from 'kysely';
import { ValidationError } from '@tributary/common';
import { AdminDiagnosticsRepository, AuditLogRepository, SyncErrorRepository } from '@tributary/db';
import { newConnection, newUser, unique } from './support/factories';
import { openTestDb, type TestDb } from './support/test-db';

describe(AdminDiagnosticsRepository.name, () => {
  let t: TestDb;
  let sut: AdminDiagnosticsRepository;
  let errors: SyncErrorRepository;
  beforeAll(() => {
    t = openTestDb();
    sut = new AdminDiagnosticsRepository(t.db);
    errors = new SyncErrorRepository(t.db);
  });
  afterAll(() => t.close());

  describe('searchUsers', () => {
    it('should find a user by email prefix (any case), user id, connection id and account id at a service', async () => {
      const tag = unique('find');
      const user = await newUser(t.db, { email: `${tag}@Example.test` });
      const conn = await newConnection(t.db, user.id, { service: 'strava', externalUserId: `${tag}-athlete` });
      const other = await newUser(t.db);
      await newConnection(t.db, other.id, { service: 'strava' });

      for (const query of [tag.toUpperCase(), `${tag}@example.test`, user.id, conn.id, `${tag}-athlete`]) {
        const hits = await sut.searchUsers(query);
        expect({ query, ids: hits.map((h) => h.id) }).toEqual({ query, ids: [user.id] });
      }
      const [hit] = await sut.searchUsers(user.id);
      expect(hit).toMatchObject({ email: `${tag}@Example.test`, role: 'user', services: ['strava'] });
    });

    it('should treat LIKE wildcards in the query as plain characters and find nothing for a blank query', async () => {
      await newUser(t.db);
      expect(await sut.searchUsers('%')).toEqual([]);
      expect(await sut.searchUsers('_')).toEqual([]);
      expect(await sut.searchUsers('   ')).toEqual([]);
    });
  });

  describe('errorGroups', () => {
    it('should group open errors by service and code with counts, users and up to three examples', async () => {
      const code = unique('code');
      const [a, b] = [await newUser(t.db), await newUser(t.db)];
      const connA = await newConnection(t.db, a.id, { service: 'garmin_connect' });
      const connB = await newConnection(t.db, b.id, { service: 'garmin_connect' });
      for (const uid of ['u1', 'u2', 'u3', 'u4']) {
        await errors.record(a.id, { connectionId: connA.id, scope: 'activity', code, activityUid: uid, message: uid });
      }
      await errors.record(b.id, {
        connectionId: connB.id,
        scope: 'connection',
        code,
        message: 'whole',
        blocking: true,
      });
      await errors.record(b.id, {
        connectionId: connB.id,
        scope: 'connection',
        code,
        message: 'whole',
        blocking: true,
      });
      const cleared = await errors.record(b.id, {
        connectionId: connB.id,
        scope: 'activity',
        code,
        activityUid: 'x',
        message: 'gone',
      });
      await errors.clear(b.id, cleared.id);
      await errors.record(a.id, { scope: 'account', code, message: 'account wide' });

      const groups = (await sut.errorGroups(500)).filter((g) => g.code === code);
      expect(groups).toHaveLength(2);
      const garmin = groups.find((g) => g.service === 'garmin_connect');
      expect(garmin).toMatchObject({ errors: 5, users: 2, occurrences: 6, blocking: true });
      expect(garmin?.examples).toHaveLength(3);
      expect(garmin?.examples).not.toContain('gone');
      expect(groups.find((g) => g.service === null)).toMatchObject({ errors: 1, users: 1, examples: ['account wide'] });
    });
  });

  describe('syncDurations', () => {
    it('should give p50 and p95 of finished runs per bucket, counting failures', async () => {
      // A window in 2001 that no other test writes to.
      const user = await newUser(t.db);
      const runs: { start: string; seconds: number; status: 'succeeded' | 'failed' }[] = [
        { start: '2001-02-03T10:00:00Z', seconds: 10, status: 'succeeded' },
        { start: '2001-02-03T10:10:00Z', seconds: 20, status: 'succeeded' },
        { start: '2001-02-03T10:20:00Z', seconds: 30, status: 'failed' },
        { start: '2001-02-03T11:05:00Z', seconds: 100, status: 'succeeded' },
      ];
      for (const r of runs) {
        const started = new Date(r.start);
        await t.db
          .insertInto('sync_runs')
          .values({
            user_id: user.id,
            trigger: 'schedule',
            status: r.status,
            queued_at: started,
            started_at: started,
            finished_at: new Date(started.getTime() + r.seconds * 1000),
          })
          .execute();
      }
      const buckets = await sut.syncDurations({
        from: new Date('2001-02-03T00:00:00Z'),
        to: new Date('2001-02-04T00:00:00Z'),
        bucketSeconds: 3600,
      });
      expect(buckets).toEqual([
        { at: new Date('2001-02-03T10:00:00Z'), runs: 3, failed: 1, p50: 20, p95: 29 },
        { at: new Date('2001-02-03T11:00:00Z'), runs: 1, failed: 0, p50: 100, p95: 100 },
      ]);
    });

    it('should refuse a window that would make too many or too small buckets', async () => {
      const from = new Date('2001-01-01T00:00:00Z');
      await expect(
        sut.syncDurations({ from, to: new Date('2002-01-01T00:00:00Z'), bucketSeconds: 60 }),
      ).rejects.toThrow(ValidationError);
      await expect(sut.syncDurations({ from, to: new Date('2001-01-02T00:00:00Z'), bucketSeconds: 1 })).rejects.toThrow(
        ValidationError,
      );
    });
  });

  describe('runOverview', () => {
    it('should count running runs with an old heartbeat as stale and leases still held', async () => {
      const user = await newUser(t.db);
      await t.db
        .insertInto('sync_runs')
        .values({
          user_id: user.id,
          trigger: 'manual',
          status: 'running',
          started_at: sql<Date>`now() - interval '2 minutes'`,
          heartbeat_at: sql<Date>`now() - interval '1 minute'`,
          worker_id: 'w1',
        })
        .execute();
      await t.db
        .updateTable('users')
        .set({ lease_owner: 'w1', lease_expires_at: sql<Date>`now() + interval '5 minutes'` })
        .where('id', '=', user.id)
        .execute();
      const overview = await sut.runOverview(new Date());
      expect(overview.running).toBeGreaterThanOrEqual(1);
      expect(overview.stale).toBeGreaterThanOrEqual(1);
      expect(overview.leasesHeld).toBeGreaterThanOrEqual(1);
    });
  });
});

describe(AuditLogRepository.name, () => {
  let t: TestDb;
  let sut: AuditLogRepository;
  beforeAll(() => {
    t = openTestDb();
    sut = new AuditLogRepository(t.db);
  });
  afterAll(() => t.close());

  it("should record entries and list one target's newest first with emails, apart from other targets", async () => {
    const admin = await newUser(t.db, { role: 'admin' });
    const [alice, bob] = [await newUser(t.db), await newUser(t.db)];
    await sut.record({ actorUserId: admin.id, action: 'admin.user.view', targetUserId: alice.id });
    await sut.record({
      actorUserId: admin.id,
      action: 'admin.user.requeue',
      targetUserId: alice.id,
      details: { runId: 'r' },
    });
    await sut.record({ actorUserId: admin.id, action: 'admin.user.view', targetUserId: bob.id });

    const forAlice = await sut.list({ targetUserId: alice.id });
    expect(forAlice.map((e) => e.action)).toEqual(['admin.user.requeue', 'admin.user.view']);
    expect(forAlice[0]).toMatchObject({
      actor_user_id: admin.id,
      actor_email: admin.email,
      target_email: alice.email,
      details: { runId: 'r' },
    });
    expect((await sut.list({ targetUserId: bob.id })).map((e) => e.action)).toEqual(['admin.user.view']);
    expect(await sut.list({ actorUserId: admin.id, action: 'admin.user.view' })).toHaveLength(2);

    const [newest] = forAlice;
    const older = await sut.list({ targetUserId: alice.id, beforeId: newest?.id ?? '' });
    expect(older.map((e) => e.action)).toEqual(['admin.user.view']);
  });

  it('should keep the entry when the target id is malformed or the user is deleted later', async () => {
    const admin = await newUser(t.db, { role: 'admin' });
    const gone = await newUser(t.db);
    const garbage = await sut.record({
      actorUserId: admin.id,
      action: 'admin.users.search',
      targetUserId: 'not-a-uuid',
    });
    expect(garbage.target_user_id).toBeNull();
    const entry = await sut.record({ actorUserId: admin.id, action: 'admin.user.unlock', targetUserId: gone.id });
    await t.db.deleteFrom('users').where('id', '=', gone.id).execute();
    const [kept] = await sut.list({ actorUserId: admin.id, action: 'admin.user.unlock' });
    expect(kept).toMatchObject({ id: entry.id, target_user_id: null, target_email: null });
  });

  it('should match nothing for malformed filters and refuse an empty action', async () => {
    expect(await sut.list({ targetUserId: 'x' })).toEqual([]);
    expect(await sut.list({ beforeId: '1; DROP' })).toEqual([]);
    await expect(sut.record({ actorUserId: null, action: ' ' })).rejects.toThrow(ValidationError);
  });
});
