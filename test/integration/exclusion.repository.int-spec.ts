import { NotFoundError } from '@tributary/common';
import { ExclusionRepository } from '@tributary/db';
import { newConnection, newUser } from './support/factories';
import { openTestDb, type TestDb } from './support/test-db';

describe(ExclusionRepository.name, () => {
  let t: TestDb;
  let sut: ExclusionRepository;
  beforeAll(() => {
    t = openTestDb();
    sut = new ExclusionRepository(t.db);
  });
  afterAll(() => t.close());

  it('should upsert exclusions by key and list only those in force', async () => {
    const user = await newUser(t.db);
    const conn = await newConnection(t.db, user.id);
    await sut.upsert(user.id, conn.id, { key: 'uid-1', reason: 'live', expiresAt: new Date(Date.now() - 1000) });
    await sut.upsert(user.id, conn.id, { key: 'uid-2', reason: 'sanity', permanent: true, message: 'no laps' });
    await sut.upsert(user.id, conn.id, { key: 'uid-3', reason: 'tz_unknown' });
    expect((await sut.listActive(user.id, conn.id)).map((e) => e.key)).toEqual(['uid-2', 'uid-3']);
    const refreshed = await sut.upsert(user.id, conn.id, { key: 'uid-1', reason: 'live' });
    expect(refreshed.expires_at).toBeNull();
    expect((await sut.listActive(user.id, conn.id)).map((e) => e.key)).toEqual(['uid-1', 'uid-2', 'uid-3']);
    expect((await sut.listActiveForUser(user.id)).length).toBe(3);
    expect(await sut.removeNonPermanent(user.id)).toBe(2);
    expect(await sut.remove(user.id, conn.id, 'uid-2')).toBe(true);
    expect(await sut.listActive(user.id, conn.id)).toEqual([]);
  });

  it('should add flow exceptions idempotently between the user’s own connections', async () => {
    const user = await newUser(t.db);
    const a = await newConnection(t.db, user.id);
    const b = await newConnection(t.db, user.id);
    await Promise.all([sut.addFlowException(user.id, a.id, b.id), sut.addFlowException(user.id, a.id, b.id)]);
    await sut.addFlowException(user.id, b.id, a.id);
    expect(await sut.listFlowExceptions(user.id)).toHaveLength(2);
    expect(await sut.removeFlowException(user.id, a.id, b.id)).toBe(true);
    expect(await sut.listFlowExceptions(user.id)).toHaveLength(1);
  });

  it('should not let another user read or change exclusions or flow exceptions', async () => {
    const owner = await newUser(t.db);
    const other = await newUser(t.db);
    const a = await newConnection(t.db, owner.id);
    const b = await newConnection(t.db, owner.id);
    const theirs = await newConnection(t.db, other.id);
    await sut.upsert(owner.id, a.id, { key: 'k', reason: 'live' });
    await sut.addFlowException(owner.id, a.id, b.id);

    await expect(sut.upsert(other.id, a.id, { key: 'k', reason: 'evil', permanent: true })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    expect(await sut.listActive(other.id, a.id)).toEqual([]);
    expect(await sut.listActiveForUser(other.id)).toEqual([]);
    expect(await sut.remove(other.id, a.id, 'k')).toBe(false);
    expect(await sut.removeNonPermanent(other.id)).toBe(0);
    await expect(sut.addFlowException(other.id, a.id, b.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(sut.addFlowException(other.id, theirs.id, a.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(sut.addFlowException(owner.id, a.id, theirs.id)).rejects.toBeInstanceOf(NotFoundError);
    expect(await sut.removeFlowException(other.id, a.id, b.id)).toBe(false);
    expect(await sut.listFlowExceptions(other.id)).toEqual([]);

    expect(await sut.listActive(owner.id, a.id)).toEqual([expect.objectContaining({ key: 'k', reason: 'live' })]);
    expect(await sut.listFlowExceptions(owner.id)).toHaveLength(1);
  });
});
