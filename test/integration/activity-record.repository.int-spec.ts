import { NotFoundError } from '@tributary/common';
import { ActivityRecordRepository } from '@tributary/db';
import { newActivityRecord, newConnection, newUser, unique } from './support/factories';
import { openTestDb, type TestDb } from './support/test-db';

describe(ActivityRecordRepository.name, () => {
  let t: TestDb;
  let sut: ActivityRecordRepository;
  beforeAll(() => {
    t = openTestDb();
    sut = new ActivityRecordRepository(t.db);
  });
  afterAll(() => t.close());

  const start = new Date('2024-05-01T06:00:00Z');

  it('should insert a record and merge a second sighting into it by uid', async () => {
    const user = await newUser(t.db);
    const uid = unique('uid');
    const first = await sut.upsert(user.id, {
      uid,
      startAt: start,
      type: 'Running',
      externalIds: ['strava:1'],
      name: 'Morning run',
      summary: { distance: 5000 },
    });
    expect(first.uids).toEqual([uid]);
    const merged = await sut.upsert(user.id, {
      uid,
      uids: ['alt-uid'],
      startAt: start,
      endAt: new Date(start.getTime() + 1_800_000),
      type: 'Running',
      externalIds: ['garmin:9', 'strava:1'],
      private: true,
      summary: { energy: 300 },
    });
    expect(merged.id).toBe(first.id);
    expect(merged.uids.sort()).toEqual(['alt-uid', uid].sort());
    expect(merged.external_ids).toEqual(['garmin:9', 'strava:1']);
    expect(merged.name).toBe('Morning run');
    expect(merged.private).toBe(true);
    expect(merged.summary).toEqual({ distance: 5000, energy: 300 });
    expect(merged.seen_at.getTime()).toBeGreaterThanOrEqual(first.seen_at.getTime());
    expect((await sut.findByUid(user.id, 'alt-uid'))?.id).toBe(first.id);
    expect((await sut.listForUser(user.id)).map((r) => r.id)).toEqual([first.id]);
  });

  it('should keep every uid when two workers merge the same record at once', async () => {
    const user = await newUser(t.db);
    const uid = unique('uid');
    await Promise.all(
      ['a', 'b', 'c', 'd'].map((extra) => sut.upsert(user.id, { uid, uids: [extra], startAt: start, type: 'Cycling' })),
    );
    const record = await sut.findByUid(user.id, uid);
    expect(record?.uids.sort()).toEqual(['a', 'b', 'c', 'd', uid].sort());
  });

  it('should list newest first with paging, and drop records an exhaustive sync did not see', async () => {
    const user = await newUser(t.db);
    const old = await newActivityRecord(t.db, user.id, { startAt: new Date('2020-01-01T00:00:00Z') });
    const recent = await newActivityRecord(t.db, user.id, { startAt: new Date('2024-01-01T00:00:00Z') });
    expect((await sut.listForUser(user.id)).map((r) => r.id)).toEqual([recent.id, old.id]);
    expect((await sut.listForUser(user.id, { before: recent.start_at })).map((r) => r.id)).toEqual([old.id]);
    const syncStarted = new Date(Date.now() + 1000);
    await t.db
      .updateTable('activity_records')
      .set({ seen_at: new Date(Date.now() + 2000) })
      .where('id', '=', recent.id)
      .execute();
    expect(await sut.deleteUnseenSince(user.id, syncStarted)).toBe(1);
    expect(await sut.findById(user.id, old.id)).toBeUndefined();
    expect(await sut.findById(user.id, recent.id)).toBeDefined();
  });

  it('should track presence per connection, count failures atomically and reset them on success', async () => {
    const user = await newUser(t.db);
    const record = await newActivityRecord(t.db, user.id);
    const conn = await newConnection(t.db, user.id);
    const counts = await Promise.all(
      [1, 2, 3].map(() =>
        sut.recordFailure(user.id, record.id, conn.id, { reasonCode: 'upload', reasonDetail: '500' }),
      ),
    );
    expect(counts.sort()).toEqual([1, 2, 3]);
    const pending = await sut.setPresence(user.id, record.id, conn.id, { state: 'pending', reasonCode: 'deferred' });
    expect(pending.failure_count).toBe(3);
    const present = await sut.setPresence(user.id, record.id, conn.id, {
      state: 'present',
      remoteId: 'r-1',
      uploadedAt: new Date(),
    });
    expect(present).toMatchObject({ state: 'present', remote_id: 'r-1', failure_count: 0, reason_code: null });
    const again = await sut.setPresence(user.id, record.id, conn.id, { state: 'present' });
    expect(again.remote_id).toBe('r-1');
    expect(await sut.listPresence(user.id, record.id)).toHaveLength(1);
  });

  it('should refuse presence that pairs a record with another user’s connection', async () => {
    const user = await newUser(t.db);
    const other = await newUser(t.db);
    const record = await newActivityRecord(t.db, user.id);
    const foreignConn = await newConnection(t.db, other.id);
    await expect(sut.setPresence(user.id, record.id, foreignConn.id, { state: 'missing' })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(sut.setPresence(other.id, record.id, foreignConn.id, { state: 'missing' })).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it('should not let another user read or change records or presence', async () => {
    const owner = await newUser(t.db);
    const other = await newUser(t.db);
    const record = await newActivityRecord(t.db, owner.id, { name: 'mine' });
    const conn = await newConnection(t.db, owner.id);
    await sut.setPresence(owner.id, record.id, conn.id, { state: 'present', remoteId: 'keep' });

    expect(await sut.findById(other.id, record.id)).toBeUndefined();
    expect(await sut.findByUid(other.id, record.uid)).toBeUndefined();
    expect(await sut.listForUser(other.id)).toEqual([]);
    expect(await sut.listPresence(other.id, record.id)).toEqual([]);
    await expect(sut.setPresence(other.id, record.id, conn.id, { state: 'missing' })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(sut.recordFailure(other.id, record.id, conn.id, { reasonCode: 'x' })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    expect(await sut.delete(other.id, record.id)).toBe(false);
    expect(await sut.deleteUnseenSince(other.id, new Date(Date.now() + 60_000))).toBe(0);
    // Upserting the same uid as another user creates that user's own record instead of touching the owner's.
    const theirs = await sut.upsert(other.id, { uid: record.uid, startAt: start, type: 'Walking', name: 'theirs' });
    expect(theirs.id).not.toBe(record.id);

    expect((await sut.findById(owner.id, record.id))?.name).toBe('mine');
    expect(await sut.listPresence(owner.id, record.id)).toEqual([
      expect.objectContaining({ state: 'present', remote_id: 'keep', failure_count: 0 }),
    ]);
  });

  it('should remember the zone settled for a copy, for its owner only', async () => {
    const owner = await newUser(t.db);
    const other = await newUser(t.db);
    const conn = await newConnection(t.db, owner.id);
    const record = await newActivityRecord(t.db, owner.id);
    await t.db.updateTable('activity_records').set({ timezone: 'Europe/Oslo' }).where('id', '=', record.id).execute();
    await sut.setPresence(owner.id, record.id, conn.id, { state: 'present', remoteId: 'g-1' });
    const copies = [
      { connectionId: conn.id, remoteId: 'g-1' },
      { connectionId: conn.id, remoteId: 'g-unknown' },
    ];

    expect(await sut.knownZones(owner.id, copies)).toEqual(new Map([[`${conn.id} g-1`, 'Europe/Oslo']]));
    expect((await sut.knownZones(other.id, copies)).size).toBe(0);
    expect((await sut.knownZones(owner.id, [])).size).toBe(0);
  });

  it('should leave an unchanged record and presence unwritten unless asked to mark the record seen', async () => {
    const user = await newUser(t.db);
    const conn = await newConnection(t.db, user.id);
    const input = { uid: unique('uid'), startAt: start, type: 'Running', name: 'Run', distance: 5000 };
    const first = await sut.upsert(user.id, input, { markSeen: false });
    const presence = await sut.setPresence(user.id, first.id, conn.id, { state: 'present', reasonCode: 'source' });
    await new Promise((r) => setTimeout(r, 20));

    // Unchanged, or less known (no name): not written.
    expect(await sut.upsert(user.id, input, { markSeen: false })).toEqual(first);
    expect(await sut.upsert(user.id, { ...input, name: null }, { markSeen: false })).toEqual(first);
    expect(await sut.setPresence(user.id, first.id, conn.id, { state: 'present', reasonCode: 'source' })).toEqual(
      presence,
    );
    // Something new: written.
    const renamed = await sut.upsert(user.id, { ...input, name: 'Evening run' }, { markSeen: false });
    expect(renamed).toMatchObject({ name: 'Evening run', distance: 5000 });
    expect(renamed.updated_at.getTime()).toBeGreaterThan(first.updated_at.getTime());
    expect(renamed.seen_at.getTime()).toBeGreaterThan(first.seen_at.getTime());
    const moreIds = await sut.upsert(user.id, { ...input, externalIds: ['strava:5'] }, { markSeen: false });
    expect(moreIds.external_ids).toEqual(['strava:5']);
    const reasoned = await sut.setPresence(user.id, first.id, conn.id, {
      state: 'present',
      reasonCode: 'already_synchronized',
    });
    expect(reasoned.updated_at.getTime()).toBeGreaterThan(presence.updated_at.getTime());
    // An exhaustive sync stamps what it saw even when nothing else changed (the default).
    const seen = await sut.upsert(user.id, { ...input, name: 'Evening run', externalIds: ['strava:5'] });
    expect(seen.seen_at.getTime()).toBeGreaterThan(moreIds.seen_at.getTime());
    expect(seen).toMatchObject({ name: 'Evening run', external_ids: ['strava:5'] });

    // Another user's unchanged presence is not handed out.
    const other = await newUser(t.db);
    await expect(
      sut.setPresence(other.id, first.id, conn.id, { state: 'present', reasonCode: 'already_synchronized' }),
    ).rejects.toThrow(NotFoundError);
  });
});
