import { NotFoundError } from '@tributary/common';
import { ConnectionLedgerRepository } from '@tributary/db';
import { newActivityRecord, newConnection, newUser } from './support/factories';
import { openTestDb, type TestDb } from './support/test-db';

describe(ConnectionLedgerRepository.name, () => {
  let t: TestDb;
  let sut: ConnectionLedgerRepository;
  beforeAll(() => {
    t = openTestDb({ poolSize: 8 });
    sut = new ConnectionLedgerRepository(t.db);
  });
  afterAll(() => t.close());

  it('should add synchronized uids idempotently and report the known ones', async () => {
    const user = await newUser(t.db);
    const conn = await newConnection(t.db, user.id);
    expect(await sut.addSynchronizedUids(user.id, conn.id, ['a', 'b', 'a'])).toBe(2);
    expect(await sut.addSynchronizedUids(user.id, conn.id, ['b', 'c'])).toBe(1);
    expect(await sut.addSynchronizedUids(user.id, conn.id, ['a'])).toBe(0);
    expect(await sut.addSynchronizedUids(user.id, conn.id, [])).toBe(0);
    expect([...(await sut.knownUids(user.id, conn.id, ['a', 'c', 'z']))].sort()).toEqual(['a', 'c']);
    expect(await sut.countSynchronizedUids(user.id, conn.id)).toBe(3);
  });

  it('should let exactly one of several racing workers reserve an upload', async () => {
    const user = await newUser(t.db);
    const conn = await newConnection(t.db, user.id);
    const record = await newActivityRecord(t.db, user.id);
    const outcomes = await Promise.all(
      [1, 2, 3, 4].map(() => sut.reserveUpload(user.id, conn.id, record.uid, record.id)),
    );
    expect(outcomes.filter((o) => o.outcome === 'reserved')).toHaveLength(1);
    expect(outcomes.filter((o) => o.outcome === 'in_flight')).toHaveLength(3);
  });

  it('should report an upload done after a crash-and-rerun, and allow a retry after a release', async () => {
    const user = await newUser(t.db);
    const conn = await newConnection(t.db, user.id);
    expect((await sut.reserveUpload(user.id, conn.id, 'u1')).outcome).toBe('reserved');
    await sut.completeUpload(user.id, conn.id, 'u1', 'remote-77');
    const rerun = await sut.reserveUpload(user.id, conn.id, 'u1');
    expect(rerun).toMatchObject({ outcome: 'uploaded', row: { remote_id: 'remote-77', state: 'uploaded' } });
    expect(await sut.releaseUpload(user.id, conn.id, 'u1')).toBe(false);

    expect((await sut.reserveUpload(user.id, conn.id, 'u2')).outcome).toBe('reserved');
    expect(await sut.releaseUpload(user.id, conn.id, 'u2')).toBe(true);
    expect((await sut.reserveUpload(user.id, conn.id, 'u2')).outcome).toBe('reserved');
  });

  it('should not let another user read or change a connection’s ledgers', async () => {
    const owner = await newUser(t.db);
    const other = await newUser(t.db);
    const conn = await newConnection(t.db, owner.id);
    await sut.addSynchronizedUids(owner.id, conn.id, ['known']);
    await sut.reserveUpload(owner.id, conn.id, 'up');
    await sut.reserveUpload(owner.id, conn.id, 'done');
    await sut.completeUpload(owner.id, conn.id, 'done', 'r');

    await expect(sut.addSynchronizedUids(other.id, conn.id, ['evil'])).rejects.toBeInstanceOf(NotFoundError);
    await expect(sut.addSynchronizedUids(other.id, conn.id, ['known'])).rejects.toBeInstanceOf(NotFoundError);
    await expect(sut.addSynchronizedUids(other.id, conn.id, [])).rejects.toBeInstanceOf(NotFoundError);
    expect((await sut.knownUids(other.id, conn.id, ['known'])).size).toBe(0);
    expect(await sut.countSynchronizedUids(other.id, conn.id)).toBe(0);
    await expect(sut.reserveUpload(other.id, conn.id, 'new')).rejects.toBeInstanceOf(NotFoundError);
    await expect(sut.reserveUpload(other.id, conn.id, 'done')).rejects.toBeInstanceOf(NotFoundError);
    await expect(sut.completeUpload(other.id, conn.id, 'up', 'x')).rejects.toBeInstanceOf(NotFoundError);
    expect(await sut.releaseUpload(other.id, conn.id, 'up')).toBe(false);
    expect(await sut.findUpload(other.id, conn.id, 'done')).toBeUndefined();
    expect(await sut.isOwnUpload(other.id, conn.id, 'r')).toBe(false);

    expect(await sut.countSynchronizedUids(owner.id, conn.id)).toBe(1);
    expect((await sut.findUpload(owner.id, conn.id, 'up'))?.state).toBe('reserved');
    expect((await sut.findUpload(owner.id, conn.id, 'done'))?.remote_id).toBe('r');
    expect(await sut.findUpload(owner.id, conn.id, 'new')).toBeUndefined();
    expect(await sut.isOwnUpload(owner.id, conn.id, 'r')).toBe(true);
    expect(await sut.isOwnUpload(owner.id, conn.id, 'someone-elses')).toBe(false);
  });
});
