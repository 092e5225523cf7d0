import { NotFoundError } from '@tributary/common';
import { ConnectionRepository } from '@tributary/db';
import { newUser, unique } from './support/factories';
import { createTestContext, type TestContext } from './support/test-db';

/** The partial-sync trigger a webhook raises while a sync of the same user is already running. */
describe('ConnectionRepository.markListed with the run start', () => {
  let t: TestContext;
  let sut: ConnectionRepository;

  beforeAll(() => {
    t = createTestContext();
    sut = new ConnectionRepository(t.db, t.keyring);
  });

  afterAll(async () => {
    await t.close();
  });

  async function connection() {
    const user = await newUser(t.db);
    const conn = await sut.connect(user.id, { service: 'dropbox', externalUserId: unique('dbx') });
    return { userId: user.id, id: conn.id };
  }

  const dbNow = async () =>
    (await t.db.selectNoFrom((eb) => eb.fn<Date>('now').as('now')).executeTakeFirstOrThrow()).now;

  it('should consume a trigger raised before the run started', async () => {
    const c = await connection();
    await sut.setTriggerPartialSync(c.userId, c.id, true);
    await new Promise((r) => setTimeout(r, 5));
    const runStartedAt = await dbNow();
    await sut.markListed(c.userId, c.id, new Date(), runStartedAt);
    expect((await sut.getForUser(c.userId, c.id)).trigger_partial_sync).toBe(false);
  });

  it('should keep a trigger raised after the run started, for the next sync', async () => {
    const c = await connection();
    const runStartedAt = await dbNow();
    await new Promise((r) => setTimeout(r, 5));
    await sut.setTriggerPartialSync(c.userId, c.id, true);
    const listedAt = new Date();
    await sut.markListed(c.userId, c.id, listedAt, runStartedAt);
    const row = await sut.getForUser(c.userId, c.id);
    expect(row.trigger_partial_sync).toBe(true);
    expect(row.last_listed_at).toEqual(listedAt);
    await sut.setTriggerPartialSync(c.userId, c.id, false);
    await sut.markListed(c.userId, c.id, new Date(), runStartedAt);
    expect((await sut.getForUser(c.userId, c.id)).trigger_partial_sync).toBe(false);
  });

  it('should not let another user mark the connection listed', async () => {
    const c = await connection();
    const other = await newUser(t.db);
    await sut.setTriggerPartialSync(c.userId, c.id, true);
    await expect(sut.markListed(other.id, c.id, new Date(), await dbNow())).rejects.toBeInstanceOf(NotFoundError);
    expect((await sut.getForUser(c.userId, c.id)).trigger_partial_sync).toBe(true);
  });
});
