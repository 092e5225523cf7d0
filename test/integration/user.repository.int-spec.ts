import { EmailTakenError, UserRepository } from '@tributary/db';
import { NotFoundError } from '@tributary/common';
import { newUser, unique } from './support/factories';
import { openTestDb, type TestDb } from './support/test-db';

describe(UserRepository.name, () => {
  let t: TestDb;
  let sut: UserRepository;
  beforeAll(() => {
    t = openTestDb({ poolSize: 8 });
    sut = new UserRepository(t.db);
  });
  afterAll(() => t.close());

  it('should create a user with defaults and find it by id and by email ignoring case', async () => {
    const email = `${unique('Mixed')}@Example.test`;
    const user = await sut.create({ email });
    expect(user.role).toBe('user');
    expect(user.next_sync_exhaustive).toBe(true);
    expect(await sut.findById(user.id)).toEqual(user);
    expect((await sut.findByEmail(email.toUpperCase()))?.id).toBe(user.id);
    expect(await sut.findById('not-a-uuid')).toBeUndefined();
  });

  it('should refuse a second account with the same email in another case', async () => {
    const email = `${unique('dup')}@example.test`;
    await sut.create({ email });
    await expect(sut.create({ email: email.toUpperCase() })).rejects.toBeInstanceOf(EmailTakenError);
    await sut.create({ email: null });
    await sut.create({ email: null });
  });

  it('should merge settings patches and fill in defaults', async () => {
    const user = await sut.create();
    expect((await sut.getSettings(user.id)).autoSync).toBe(true);
    await sut.updateSettings(user.id, { uploadDelaySeconds: 3600 });
    const settings = await sut.updateSettings(user.id, { timezoneFallback: 'Europe/Berlin' });
    expect(settings).toMatchObject({ uploadDelaySeconds: 3600, timezoneFallback: 'Europe/Berlin', autoSync: true });
    expect(settings.notifications.emailOnBlockingError).toBe(true);
  });

  it('should schedule, find due users and record a finished sync', async () => {
    const user = await newUser(t.db);
    const past = new Date(Date.now() - 60_000);
    await sut.scheduleSync(user.id, { at: past, exhaustive: false });
    const due = await sut.findDueForSync(new Date(), 10_000);
    expect(due.map((d) => d.id)).toContain(user.id);
    await sut.markSynced(user.id, { nextSyncAt: null, nextExhaustive: false });
    const after = await sut.getById(user.id);
    expect(after.next_sync_at).toBeNull();
    expect(after.last_sync_at).toBeInstanceOf(Date);
    await expect(sut.scheduleSync('00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('should delete a user and everything of theirs by cascade', async () => {
    const user = await newUser(t.db);
    await t.db
      .insertInto('connections')
      .values({ user_id: user.id, service: 'strava', external_user_id: unique('a') })
      .execute();
    expect(await sut.delete(user.id)).toBe(true);
    const left = await t.db.selectFrom('connections').select('id').where('user_id', '=', user.id).execute();
    expect(left).toEqual([]);
    expect(await sut.delete(user.id)).toBe(false);
  });

  describe('lease', () => {
    it('should be exclusive, re-entrant for its owner, renewable and releasable', async () => {
      const user = await newUser(t.db);
      const lease = await sut.acquireLease(user.id, 'w1', 60_000);
      expect(lease?.owner).toBe('w1');
      expect(lease?.expiresAt.getTime()).toBeGreaterThan(Date.now());
      expect(await sut.acquireLease(user.id, 'w2', 60_000)).toBeNull();
      expect(await sut.acquireLease(user.id, 'w1', 60_000)).not.toBeNull();
      expect(await sut.renewLease(user.id, 'w2', 60_000)).toBeNull();
      expect(await sut.renewLease(user.id, 'w1', 120_000)).not.toBeNull();
      expect(await sut.releaseLease(user.id, 'w2')).toBe(false);
      expect(await sut.releaseLease(user.id, 'w1')).toBe(true);
      expect((await sut.acquireLease(user.id, 'w2', 60_000))?.owner).toBe('w2');
    });

    it('should let another worker take an expired lease and report it to the watchdog', async () => {
      const user = await newUser(t.db);
      await sut.acquireLease(user.id, 'dead-worker', 1);
      await new Promise((r) => setTimeout(r, 20));
      const expired = await sut.findExpiredLeases(10_000);
      expect(expired.find((l) => l.userId === user.id)?.owner).toBe('dead-worker');
      expect((await sut.acquireLease(user.id, 'w2', 60_000))?.owner).toBe('w2');
      expect(await sut.renewLease(user.id, 'dead-worker', 60_000)).toBeNull();
      expect((await sut.findExpiredLeases(10_000)).some((l) => l.userId === user.id)).toBe(false);
    });

    it('should give the lease to exactly one of many concurrent acquirers', async () => {
      const users = await Promise.all(Array.from({ length: 10 }, () => newUser(t.db)));
      for (const user of users) {
        const results = await Promise.all(
          ['a', 'b', 'c', 'd'].map((owner) => sut.acquireLease(user.id, `racer-${owner}`, 60_000)),
        );
        expect(results.filter((r) => r !== null)).toHaveLength(1);
      }
    });
  });
});
