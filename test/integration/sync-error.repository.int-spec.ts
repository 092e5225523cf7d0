import { NotFoundError } from '@tributary/common';
import { SyncErrorRepository } from '@tributary/db';
import { newConnection, newUser } from './support/factories';
import { openTestDb, type TestDb } from './support/test-db';

describe(SyncErrorRepository.name, () => {
  let t: TestDb;
  let sut: SyncErrorRepository;
  beforeAll(() => {
    t = openTestDb({ poolSize: 8 });
    sut = new SyncErrorRepository(t.db);
  });
  afterAll(() => t.close());

  it('should count repeated occurrences in one row, including account-scope errors with no connection', async () => {
    const user = await newUser(t.db);
    const conn = await newConnection(t.db, user.id);
    const activityErr = { connectionId: conn.id, scope: 'activity' as const, code: 'upload', activityUid: 'u1' };
    await Promise.all([1, 2, 3].map((i) => sut.record(user.id, { ...activityErr, message: `try ${i}` })));
    await sut.record(user.id, { scope: 'account', code: 'locked', message: 'locked', blocking: true });
    const row = await sut.record(user.id, {
      scope: 'account',
      code: 'locked',
      message: 'still locked',
      blocking: true,
    });
    expect(row).toMatchObject({ count: 2, message: 'still locked', connection_id: null, activity_uid: null });
    const open = await sut.listOpen(user.id);
    expect(open).toHaveLength(2);
    expect(open.find((e) => e.code === 'upload')?.count).toBe(3);
    expect(await sut.listOpen(user.id, { connectionId: conn.id })).toHaveLength(1);
  });

  it('should clear by id, by group and by codes, and reopen a cleared error with a fresh count', async () => {
    const user = await newUser(t.db);
    const conn = await newConnection(t.db, user.id);
    const full = await sut.record(user.id, {
      connectionId: conn.id,
      scope: 'connection',
      code: 'full',
      clearGroup: 'full',
      message: 'Dropbox is full',
      blocking: true,
      triggerExhaustive: true,
      intervention: 'Free some space',
    });
    await sut.record(user.id, { connectionId: conn.id, scope: 'connection', code: 'auth', message: 'revoked' });
    await sut.record(user.id, {
      connectionId: conn.id,
      scope: 'activity',
      code: 'download',
      message: 'x',
      activityUid: 'a',
    });
    expect(await sut.countForcingExhaustive(user.id)).toBe(1);
    expect(await sut.clearGroup(user.id, conn.id, 'full')).toBe(1);
    expect(await sut.countForcingExhaustive(user.id)).toBe(0);
    expect(await sut.clearCodes(user.id, conn.id, ['auth', 'renew_password'])).toBe(1);
    expect(await sut.clearNonBlocking(user.id)).toBe(1);
    expect(await sut.listOpen(user.id)).toEqual([]);
    const reopened = await sut.record(user.id, {
      connectionId: conn.id,
      scope: 'connection',
      code: 'full',
      message: 'full again',
    });
    expect(reopened).toMatchObject({ id: full.id, count: 1, cleared_at: null });
    expect(await sut.clear(user.id, reopened.id)).toBe(true);
    expect(await sut.clear(user.id, reopened.id)).toBe(false);
  });

  it('should reject an error for another user’s connection and keep users apart', async () => {
    const owner = await newUser(t.db);
    const other = await newUser(t.db);
    const conn = await newConnection(t.db, owner.id);
    const err = await sut.record(owner.id, {
      connectionId: conn.id,
      scope: 'connection',
      code: 'full',
      clearGroup: 'full',
      message: 'full',
      blocking: true,
      triggerExhaustive: true,
    });
    await expect(
      sut.record(other.id, { connectionId: conn.id, scope: 'connection', code: 'x', message: 'x' }),
    ).rejects.toBeInstanceOf(NotFoundError);
    expect(await sut.listOpen(other.id)).toEqual([]);
    expect(await sut.countForcingExhaustive(other.id)).toBe(0);
    expect(await sut.clear(other.id, err.id)).toBe(false);
    expect(await sut.clearGroup(other.id, conn.id, 'full')).toBe(0);
    expect(await sut.clearCodes(other.id, conn.id, ['full'])).toBe(0);
    await sut.record(owner.id, { scope: 'account', code: 'soft', message: 'x' });
    expect(await sut.clearNonBlocking(other.id)).toBe(0);
    expect((await sut.listOpen(owner.id)).map((e) => e.code).sort()).toEqual(['full', 'soft']);
  });
});
