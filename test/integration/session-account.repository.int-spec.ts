import { AccountRepository, ConnectionRepository } from '@tributary/db';
import { newActivityRecord, newConnection, newUser, unique } from './support/factories';
import { openTestDb, testKeyring, type TestDb } from './support/test-db';

describe(AccountRepository.name, () => {
  let t: TestDb;
  let sut: AccountRepository;
  let connections: ConnectionRepository;
  beforeAll(() => {
    t = openTestDb();
    sut = new AccountRepository(t.db);
    connections = new ConnectionRepository(t.db, testKeyring());
  });
  afterAll(() => t.close());

  const userExists = async (id: string): Promise<boolean> =>
    (await t.db.selectFrom('users').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;

  it("should merge: move the absorbed user's connections, keep the survivor's on a shared service, delete the absorbed user", async () => {
    const owner = await newUser(t.db);
    const absorbed = await newUser(t.db);
    const ownerStrava = await newConnection(t.db, owner.id, { service: 'strava' });
    const absorbedStrava = await newConnection(t.db, absorbed.id, { service: 'strava' });
    const absorbedDropbox = await newConnection(t.db, absorbed.id, { service: 'dropbox' });
    await newActivityRecord(t.db, absorbed.id);
    await t.db.updateTable('users').set({ next_sync_exhaustive: false }).where('id', '=', owner.id).execute();

    const result = await sut.mergeUsers(absorbed.id, owner.id);
    expect(result.moved.map((c) => c.id)).toEqual([absorbedDropbox.id]);
    expect(result.dropped.map((c) => c.id)).toEqual([absorbedStrava.id]);
    expect((await connections.listForUser(owner.id)).map((c) => c.id).sort()).toEqual(
      [ownerStrava.id, absorbedDropbox.id].sort(),
    );
    expect(await userExists(absorbed.id)).toBe(false);
    const survivor = await t.db.selectFrom('users').selectAll().where('id', '=', owner.id).executeTakeFirstOrThrow();
    expect(survivor.next_sync_exhaustive).toBe(true);
  });

  it('should refuse to merge a user into itself or an unknown user, changing nothing', async () => {
    const user = await newUser(t.db);
    const conn = await newConnection(t.db, user.id);
    await expect(sut.mergeUsers(user.id, user.id)).rejects.toMatchObject({ code: 'validation' });
    await expect(sut.mergeUsers(user.id, '00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({
      code: 'not_found',
    });
    expect((await connections.listForUser(user.id)).map((c) => c.id)).toEqual([conn.id]);
  });

  it('should disconnect one connection and delete the user with the last one', async () => {
    const user = await newUser(t.db);
    const a = await newConnection(t.db, user.id, { externalUserId: unique('a') });
    const b = await newConnection(t.db, user.id, { externalUserId: unique('b') });
    expect(await sut.disconnect(user.id, a.id)).toEqual({ disconnected: true, userDeleted: false });
    expect(await userExists(user.id)).toBe(true);
    expect(await sut.disconnect(user.id, b.id)).toEqual({ disconnected: true, userDeleted: true });
    expect(await userExists(user.id)).toBe(false);
  });

  it("should not disconnect another user's connection", async () => {
    const alice = await newUser(t.db);
    const bob = await newUser(t.db);
    const bobs = await newConnection(t.db, bob.id);
    await newConnection(t.db, alice.id);
    expect(await sut.disconnect(alice.id, bobs.id)).toEqual({ disconnected: false, userDeleted: false });
    expect((await connections.listForUser(bob.id)).map((c) => c.id)).toEqual([bobs.id]);
    expect(await sut.disconnect(alice.id, 'nope')).toEqual({ disconnected: false, userDeleted: false });
  });
});
