import { randomBytes } from 'node:crypto';
import { Keyring, keyIdOf } from '@tributary/common';
import { ConnectionRepository, CredentialsRepository } from '@tributary/db';
import { newConnection, newUser, unique } from './support/factories';
import { createScratchDatabase, type ScratchDb } from './support/test-db';

jest.setTimeout(30_000);

describe(`${CredentialsRepository.name}.rotateKeys`, () => {
  // A database of its own: rotation is system-wide and must see exactly this test's connections.
  let scratch: ScratchDb;
  beforeAll(async () => {
    scratch = await createScratchDatabase({ migrate: true });
  });
  afterAll(() => scratch.drop());

  const key = (id: string) => ({ id, key: randomBytes(32) });

  it('should re-encrypt every connection under the new first key in batches, and be a no-op the second time', async () => {
    const old = key('old');
    const fresh = key('fresh');
    const before = new ConnectionRepository(scratch.db, new Keyring([old]));
    const owners = await Promise.all(Array.from({ length: 7 }, () => newUser(scratch.db)));
    const conns = await Promise.all(
      owners.map((u, i) =>
        before.connect(u.id, { service: 'strava', externalUserId: unique('a'), credentials: { token: `t${i}` } }),
      ),
    );
    const bare = await newConnection(scratch.db, owners[0]!.id);
    const lost = await newConnection(scratch.db, owners[1]!.id, {
      credentialsCiphertext: new Keyring([key('gone')]).encrypt('x'),
      credentialsKeyId: 'gone',
    });

    const ring = new Keyring([fresh, old]);
    const sut = new CredentialsRepository(scratch.db);
    const report = await sut.rotateKeys(ring, { batchSize: 3 });
    expect(report).toEqual({
      scanned: 8,
      reencrypted: 7,
      current: 0,
      failed: [{ connectionId: lost.id, code: 'crypto_unknown_key' }],
    });

    const after = new ConnectionRepository(scratch.db, new Keyring([fresh]));
    for (const [i, c] of conns.entries()) {
      expect(await after.readCredentials(owners[i]!.id, c.id)).toEqual({ token: `t${i}` });
    }
    const rows = await scratch.db
      .selectFrom('connections')
      .select(['id', 'credentials_key_id', 'credentials_ciphertext'])
      .execute();
    for (const row of rows.filter((r) => r.id !== lost.id && r.id !== bare.id)) {
      expect(row.credentials_key_id).toBe('fresh');
      expect(keyIdOf(row.credentials_ciphertext!)).toBe('fresh');
    }
    expect(rows.find((r) => r.id === bare.id)?.credentials_ciphertext).toBeNull();

    const second = await sut.rotateKeys(ring);
    expect(second).toMatchObject({ scanned: 1, reencrypted: 0, current: 7 });
  });
});
