import { createHash } from 'node:crypto';
import { NotFoundError } from '@tributary/common';
import { ActivityOriginalRepository } from '@tributary/db';
import { newActivityRecord, newConnection, newUser } from './support/factories';
import { openTestDb, type TestDb } from './support/test-db';

const bytes = (...values: number[]) => new Uint8Array(values);

describe(ActivityOriginalRepository.name, () => {
  let t: TestDb;
  let sut: ActivityOriginalRepository;
  beforeAll(() => {
    t = openTestDb();
    sut = new ActivityOriginalRepository(t.db);
  });
  afterAll(() => t.close());

  it('should store, read back and list an original with its hash and size', async () => {
    const user = await newUser(t.db);
    const conn = await newConnection(t.db, user.id);
    const record = await newActivityRecord(t.db, user.id);
    expect(await sut.has(user.id, record.id)).toBe(false);
    const file = bytes(14, 16, 0, 0, 5, 0, 0, 0, 0x2e, 0x46, 0x49, 0x54);
    const meta = await sut.put(user.id, record.id, { format: 'fit', bytes: file, sourceConnectionId: conn.id });
    expect(meta).toMatchObject({
      activity_record_id: record.id,
      format: 'fit',
      size: file.length,
      derived: false,
      source_connection_id: conn.id,
      sha256: createHash('sha256').update(file).digest('hex'),
    });
    const stored = await sut.get(user.id, record.id);
    expect(stored?.bytes).toEqual(file);
    expect(await sut.has(user.id, record.id)).toBe(true);
    expect((await sut.list(user.id)).map((o) => o.activity_record_id)).toEqual([record.id]);
  });

  it('should let a real file replace a derived one but never the other way round', async () => {
    const user = await newUser(t.db);
    const record = await newActivityRecord(t.db, user.id);
    await sut.put(user.id, record.id, { format: 'fit', bytes: bytes(1, 2, 3), derived: true });
    const replaced = await sut.put(user.id, record.id, { format: 'gpx', bytes: bytes(4, 5) });
    expect(replaced).toMatchObject({ format: 'gpx', derived: false, size: 2 });
    const kept = await sut.put(user.id, record.id, { format: 'fit', bytes: bytes(9), derived: true });
    expect(kept).toMatchObject({ format: 'gpx', derived: false });
    const again = await sut.put(user.id, record.id, { format: 'tcx', bytes: bytes(7, 7, 7) });
    expect(again.format).toBe('gpx');
    expect((await sut.get(user.id, record.id))?.bytes).toEqual(bytes(4, 5));
  });

  it('should keep the file but forget the source when the connection goes, and drop it with the record', async () => {
    const user = await newUser(t.db);
    const conn = await newConnection(t.db, user.id);
    const record = await newActivityRecord(t.db, user.id);
    await sut.put(user.id, record.id, { format: 'fit', bytes: bytes(1), sourceConnectionId: conn.id });
    await t.db.deleteFrom('connections').where('id', '=', conn.id).execute();
    expect((await sut.find(user.id, record.id))?.source_connection_id).toBeNull();
    await t.db.deleteFrom('activity_records').where('id', '=', record.id).execute();
    expect(await sut.has(user.id, record.id)).toBe(false);
  });

  it('should not let another user read, write or remove an original', async () => {
    const owner = await newUser(t.db);
    const other = await newUser(t.db);
    const record = await newActivityRecord(t.db, owner.id);
    const theirConn = await newConnection(t.db, other.id);
    const ownRecord = await newActivityRecord(t.db, other.id);
    await sut.put(owner.id, record.id, { format: 'fit', bytes: bytes(1, 2) });

    await expect(sut.put(other.id, record.id, { format: 'gpx', bytes: bytes(6) })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    const fresh = await newActivityRecord(t.db, owner.id);
    await expect(
      sut.put(owner.id, fresh.id, { format: 'gpx', bytes: bytes(6), sourceConnectionId: theirConn.id }),
    ).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      sut.put(other.id, ownRecord.id, { format: 'gpx', bytes: bytes(6), sourceConnectionId: 'not-a-uuid' }),
    ).rejects.toBeInstanceOf(NotFoundError);
    expect(await sut.get(other.id, record.id)).toBeUndefined();
    expect(await sut.find(other.id, record.id)).toBeUndefined();
    expect(await sut.has(other.id, record.id)).toBe(false);
    expect(await sut.list(other.id)).toEqual([]);
    expect(await sut.remove(other.id, record.id)).toBe(false);
    expect((await sut.get(owner.id, record.id))?.bytes).toEqual(bytes(1, 2));
    expect(await sut.remove(owner.id, record.id)).toBe(true);
    expect(await sut.get('not-a-uuid', 'not-a-uuid')).toBeUndefined();
  });
});
