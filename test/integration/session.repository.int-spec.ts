import { SessionRepository, hashSessionToken, secretsEqual } from '@tributary/db';
import { newUser } from './support/factories';
import { openTestDb, type TestDb } from './support/test-db';

const HOUR = 3_600_000;

describe(SessionRepository.name, () => {
  let t: TestDb;
  let sut: SessionRepository;
  beforeAll(() => {
    t = openTestDb();
    sut = new SessionRepository(t.db);
  });
  afterAll(() => t.close());

  it('should store only the hash of the token and find the session by the token', async () => {
    const user = await newUser(t.db);
    const { token, session } = await sut.create(user.id, HOUR);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(session.id).toBe(hashSessionToken(token));
    const raw = await t.db.selectFrom('sessions').selectAll().where('user_id', '=', user.id).execute();
    expect(raw).toHaveLength(1);
    expect(raw[0]?.id).not.toContain(token);
    expect(JSON.stringify(raw)).not.toContain(token);
    expect(await sut.findByToken(token)).toMatchObject({ userId: user.id, csrfSecret: session.csrfSecret });
    expect(await sut.findByToken(session.id)).toBeUndefined();
    expect(await sut.findByToken('not a token')).toBeUndefined();
  });

  it("should carry the signed-in user's current role, and none for an anonymous session", async () => {
    const user = await newUser(t.db);
    const { token } = await sut.create(user.id, HOUR);
    expect((await sut.findByToken(token))?.userRole).toBe('user');
    await t.db.updateTable('users').set({ role: 'admin' }).where('id', '=', user.id).execute();
    expect((await sut.findByToken(token))?.userRole).toBe('admin');
    const anon = await sut.create(null, HOUR);
    expect((await sut.findByToken(anon.token))?.userRole).toBeUndefined();
  });

  it('should not return an expired session and should slide the expiry on touch', async () => {
    const expired = await sut.create(null, -1000);
    expect(await sut.findByToken(expired.token)).toBeUndefined();
    await sut.touch(expired.session.id, HOUR);
    expect(await sut.findByToken(expired.token)).toBeUndefined();

    const live = await sut.create(null, 60_000);
    await sut.touch(live.session.id, 10 * HOUR);
    const found = await sut.findByToken(live.token);
    expect(found?.expiresAt.getTime()).toBeGreaterThan(Date.now() + 9 * HOUR);
  });

  it('should rotate on sign-in: old token dead, new token and CSRF secret for the user', async () => {
    const user = await newUser(t.db);
    const anon = await sut.create(null, HOUR);
    const signedIn = await sut.rotate(anon.session.id, user.id, HOUR);
    expect(await sut.findByToken(anon.token)).toBeUndefined();
    expect(signedIn.token).not.toBe(anon.token);
    expect(signedIn.session.csrfSecret).not.toBe(anon.session.csrfSecret);
    expect(await sut.findByToken(signedIn.token)).toMatchObject({ userId: user.id });
  });

  it("should never list or end another user's sessions", async () => {
    const alice = await newUser(t.db);
    const bob = await newUser(t.db);
    const a = await sut.create(alice.id, HOUR);
    const b = await sut.create(bob.id, HOUR);
    expect((await sut.listForUser(alice.id)).map((s) => s.id)).toEqual([a.session.id]);
    expect(await sut.deleteForUser(alice.id, b.session.id)).toBe(false);
    expect(await sut.findByToken(b.token)).toMatchObject({ userId: bob.id });
    expect(await sut.deleteForUser(bob.id, b.session.id)).toBe(true);
    expect(await sut.findByToken(b.token)).toBeUndefined();
    expect(await sut.listForUser('not-a-uuid')).toEqual([]);
  });

  it('should end every session of a user on deleteAllForUser and when the user is deleted', async () => {
    const user = await newUser(t.db);
    const other = await newUser(t.db);
    await sut.create(user.id, HOUR);
    await sut.create(user.id, HOUR);
    const kept = await sut.create(other.id, HOUR);
    expect(await sut.deleteAllForUser(user.id)).toBe(2);
    expect(await sut.findByToken(kept.token)).toBeDefined();
    await t.db.deleteFrom('users').where('id', '=', other.id).execute();
    expect(await sut.findByToken(kept.token)).toBeUndefined();
  });

  it('should accept an OAuth state once, only for its session and service, and not after expiry', async () => {
    const mine = await sut.create(null, HOUR);
    const theirs = await sut.create(null, HOUR);
    await sut.setOAuthState(mine.session.id, 'strava', 'state-1', 60_000);
    expect(await sut.consumeOAuthState(theirs.session.id, 'strava', 'state-1')).toBe(false);
    expect(await sut.consumeOAuthState(mine.session.id, 'dropbox', 'state-1')).toBe(false);
    expect(await sut.consumeOAuthState(mine.session.id, 'strava', 'state-2')).toBe(false);
    expect(await sut.consumeOAuthState(mine.session.id, 'strava', 'state-1')).toBe(true);
    expect(await sut.consumeOAuthState(mine.session.id, 'strava', 'state-1')).toBe(false);

    await sut.setOAuthState(mine.session.id, 'strava', 'state-3', -1);
    expect(await sut.consumeOAuthState(mine.session.id, 'strava', 'state-3')).toBe(false);
  });

  it('should delete sessions on sign-out and purge expired ones', async () => {
    const s = await sut.create(null, HOUR);
    expect(await sut.delete(s.session.id)).toBe(true);
    expect(await sut.delete(s.session.id)).toBe(false);
    const old = await sut.create(null, -1);
    await sut.deleteExpired();
    const left = await t.db.selectFrom('sessions').select('id').where('id', '=', old.session.id).execute();
    expect(left).toEqual([]);
  });
});

describe('secretsEqual', () => {
  it('should compare in constant time and treat different lengths as unequal', () => {
    expect(secretsEqual('abc', 'abc')).toBe(true);
    expect(secretsEqual('abc', 'abd')).toBe(false);
    expect(secretsEqual('abc', 'abcd')).toBe(false);
  });
});

describe(`${SessionRepository.name} pending logins`, () => {
  let t: TestDb;
  let sut: SessionRepository;
  beforeAll(() => {
    t = openTestDb();
    sut = new SessionRepository(t.db);
  });
  afterAll(() => t.close());

  it('should hand a parked login back once, only to its session and service, and not after expiry', async () => {
    const mine = await sut.create(null, HOUR);
    const theirs = await sut.create(null, HOUR);
    await sut.setPendingLogin(mine.session.id, 'garmin_connect', 'v1:k:cipher', 60_000);
    expect(await sut.takePendingLogin(theirs.session.id, 'garmin_connect')).toBeUndefined();
    expect(await sut.takePendingLogin(mine.session.id, 'other')).toBeUndefined();
    expect(await sut.takePendingLogin(mine.session.id, 'garmin_connect')).toBe('v1:k:cipher');
    expect(await sut.takePendingLogin(mine.session.id, 'garmin_connect')).toBeUndefined();

    await sut.setPendingLogin(mine.session.id, 'garmin_connect', 'v1:k:old', -1);
    expect(await sut.takePendingLogin(mine.session.id, 'garmin_connect')).toBeUndefined();
  });
});
