import { randomBytes } from 'node:crypto';
import { NotFoundError, ConfigError, Keyring } from '@tributary/common';
import { AccountConnectedElsewhereError, ConnectionRepository, ServiceAlreadyConnectedError } from '@tributary/db';
import { newUser, unique } from './support/factories';
import { openTestDb, testKeyring, type TestDb } from './support/test-db';

describe(ConnectionRepository.name, () => {
  let t: TestDb;
  let keyring: Keyring;
  let sut: ConnectionRepository;
  beforeAll(() => {
    t = openTestDb();
    keyring = testKeyring(['new', 'old']);
    sut = new ConnectionRepository(t.db, keyring);
  });
  afterAll(() => t.close());

  it('should connect an account with encrypted credentials and read them back', async () => {
    const user = await newUser(t.db);
    const conn = await sut.connect(user.id, {
      service: 'strava',
      externalUserId: unique('athlete'),
      displayName: 'Runner',
      credentials: { accessToken: 'at-secret', refreshToken: 'rt-secret' },
    });
    expect(conn).toMatchObject({ user_id: user.id, service: 'strava', status: 'ok', credentials_key_id: 'new' });
    expect(conn).not.toHaveProperty('credentials_ciphertext');
    const raw = await t.db
      .selectFrom('connections')
      .select('credentials_ciphertext')
      .where('id', '=', conn.id)
      .executeTakeFirstOrThrow();
    expect(raw.credentials_ciphertext).toMatch(/^v1:new:/);
    expect(raw.credentials_ciphertext).not.toContain('secret');
    expect(await sut.readCredentials(user.id, conn.id)).toEqual({
      accessToken: 'at-secret',
      refreshToken: 'rt-secret',
    });

    await sut.writeCredentials(user.id, conn.id, { accessToken: 'refreshed' });
    expect(await sut.readCredentials(user.id, conn.id)).toEqual({ accessToken: 'refreshed' });
    await sut.writeCredentials(user.id, conn.id, null);
    expect(await sut.readCredentials(user.id, conn.id)).toBeNull();
  });

  it('should treat reconnecting the same account as an update, not a second row', async () => {
    const user = await newUser(t.db);
    const external = unique('athlete');
    const first = await sut.connect(user.id, { service: 'strava', externalUserId: external, credentials: { v: 1 } });
    await sut.setStatus(user.id, first.id, 'needs_reauth');
    const again = await sut.connect(user.id, { service: 'strava', externalUserId: external, credentials: { v: 2 } });
    expect(again.id).toBe(first.id);
    expect(again.status).toBe('ok');
    expect(again.display_name).toBeNull();
    expect(await sut.readCredentials(user.id, first.id)).toEqual({ v: 2 });
    expect(await sut.listForUser(user.id)).toHaveLength(1);
  });

  it('should refuse an account that belongs to another user, leaving it untouched', async () => {
    const owner = await newUser(t.db);
    const thief = await newUser(t.db);
    const external = unique('athlete');
    const conn = await sut.connect(owner.id, {
      service: 'garmin_connect',
      externalUserId: external,
      credentials: { p: 'a' },
    });
    await expect(
      sut.connect(thief.id, { service: 'garmin_connect', externalUserId: external, credentials: { p: 'evil' } }),
    ).rejects.toBeInstanceOf(AccountConnectedElsewhereError);
    expect(await sut.readCredentials(owner.id, conn.id)).toEqual({ p: 'a' });
    expect(await sut.listForUser(thief.id)).toEqual([]);
  });

  it('should refuse a second account of the same service for one user', async () => {
    const user = await newUser(t.db);
    await sut.connect(user.id, { service: 'dropbox', externalUserId: unique('a') });
    await expect(sut.connect(user.id, { service: 'dropbox', externalUserId: unique('b') })).rejects.toBeInstanceOf(
      ServiceAlreadyConnectedError,
    );
  });

  it('should merge config, track listing and the partial-sync trigger, and disconnect', async () => {
    const user = await newUser(t.db);
    const conn = await sut.connect(user.id, { service: 'dropbox', externalUserId: unique('a'), config: { root: '/' } });
    const updated = await sut.updateConfig(user.id, conn.id, { format: 'tcx' });
    expect(updated.config).toEqual({ root: '/', format: 'tcx' });
    await sut.setTriggerPartialSync(user.id, conn.id, true);
    expect((await sut.getForUser(user.id, conn.id)).trigger_partial_sync).toBe(true);
    await sut.markListed(user.id, conn.id);
    const listed = await sut.getForUser(user.id, conn.id);
    expect(listed.trigger_partial_sync).toBe(false);
    expect(listed.last_listed_at).toBeInstanceOf(Date);
    expect((await sut.findByServiceAccount('dropbox', conn.external_user_id))?.user_id).toBe(user.id);
    expect(await sut.disconnect(user.id, conn.id)).toBe(true);
    expect(await sut.findForUser(user.id, conn.id)).toBeUndefined();
    expect(await sut.disconnect(user.id, 'nonsense')).toBe(false);
  });

  it('should refuse credentials without a keyring', async () => {
    const user = await newUser(t.db);
    const bare = new ConnectionRepository(t.db, null);
    await expect(
      bare.connect(user.id, { service: 'strava', externalUserId: unique('a'), credentials: { x: 1 } }),
    ).rejects.toBeInstanceOf(ConfigError);
    const conn = await bare.connect(user.id, { service: 'strava', externalUserId: unique('a') });
    expect(conn.credentials_key_id).toBeNull();
  });

  it('should not let another user read or change a connection', async () => {
    const owner = await newUser(t.db);
    const other = await newUser(t.db);
    const conn = await sut.connect(owner.id, {
      service: 'strava',
      externalUserId: unique('a'),
      credentials: { token: 'mine' },
      config: { private: false },
    });
    expect(await sut.findForUser(other.id, conn.id)).toBeUndefined();
    expect(await sut.listForUser(other.id)).toEqual([]);
    await expect(sut.getForUser(other.id, conn.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(sut.readCredentials(other.id, conn.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(sut.writeCredentials(other.id, conn.id, { token: 'x' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(sut.setStatus(other.id, conn.id, 'disabled')).rejects.toBeInstanceOf(NotFoundError);
    await expect(sut.updateConfig(other.id, conn.id, { private: true })).rejects.toBeInstanceOf(NotFoundError);
    await expect(sut.setTriggerPartialSync(other.id, conn.id, true)).rejects.toBeInstanceOf(NotFoundError);
    await expect(sut.markListed(other.id, conn.id)).rejects.toBeInstanceOf(NotFoundError);
    expect(await sut.disconnect(other.id, conn.id)).toBe(false);
    const after = await sut.getForUser(owner.id, conn.id);
    expect(after).toMatchObject({ status: 'ok', config: { private: false }, trigger_partial_sync: false });
    expect(after.last_listed_at).toBeNull();
    expect(await sut.readCredentials(owner.id, conn.id)).toEqual({ token: 'mine' });
  });

  it('should fail to decrypt credentials once their key is gone', async () => {
    const user = await newUser(t.db);
    const conn = await sut.connect(user.id, { service: 'strava', externalUserId: unique('a'), credentials: { a: 1 } });
    const stranger = new ConnectionRepository(t.db, new Keyring([{ id: 'other', key: randomBytes(32) }]));
    await expect(stranger.readCredentials(user.id, conn.id)).rejects.toMatchObject({ code: 'crypto_unknown_key' });
  });
});
