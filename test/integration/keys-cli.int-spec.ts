import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { Keyring } from '@tributary/common';
import { ConnectionRepository, NotificationRepository } from '@tributary/db';
import { RotationIncompleteError, runKeysRotate } from '../../apps/cli/src/keys.command';
import { buildProgram } from '../../apps/cli/src/program';
import { newConnection, newUser, unique } from './support/factories';
import { createScratchDatabase, type ScratchDb } from './support/test-db';

jest.setTimeout(30_000);

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

describe('tributary keys rotate', () => {
  let scratch: ScratchDb;
  beforeAll(async () => {
    scratch = await createScratchDatabase({ migrate: true });
  });
  afterAll(() => scratch.drop());

  const oldKey = { id: 'old', key: randomBytes(32) };
  const newKey = { id: 'new', key: randomBytes(32) };
  const spec = (keys: { id: string; key: Buffer }[]) =>
    keys.map((k) => `${k.id}:${k.key.toString('base64')}`).join(',');

  it('should be registered on the program', () => {
    const keys = buildProgram().commands.find((c) => c.name() === 'keys');
    expect(keys?.commands.map((c) => c.name()).sort()).toEqual(['generate', 'rotate']);
  });

  it('should rotate through the configured database and print counts as text and as JSON', async () => {
    const user = await newUser(scratch.db);
    const conn = await new ConnectionRepository(scratch.db, new Keyring([oldKey])).connect(user.id, {
      service: 'strava',
      externalUserId: unique('a'),
      credentials: { token: 'abc' },
    });
    const env = { DATABASE_URL: scratch.url, TRIBUTARY_ENCRYPTION_KEYS: spec([newKey, oldKey]) };
    const out = capture();
    await runKeysRotate({}, env, out.stream);
    expect(out.text()).toContain('Re-encrypted 1 connection(s) under key new.');
    expect(await new ConnectionRepository(scratch.db, new Keyring([newKey])).readCredentials(user.id, conn.id)).toEqual(
      { token: 'abc' },
    );

    const json = capture();
    await runKeysRotate({ json: true }, env, json.stream);
    expect(JSON.parse(json.text())).toEqual({
      keyId: 'new',
      scanned: 0,
      reencrypted: 0,
      current: 1,
      failed: [],
      webhookSecrets: { scanned: 0, reencrypted: 0, failed: [] },
    });
  });

  it("should re-encrypt users' notification webhook signing secrets too", async () => {
    const user = await newUser(scratch.db);
    const secret = await new NotificationRepository(scratch.db, new Keyring([oldKey])).webhookSecret(user.id);
    const out = capture();
    await runKeysRotate(
      { json: true },
      { DATABASE_URL: scratch.url, TRIBUTARY_ENCRYPTION_KEYS: spec([newKey, oldKey]) },
      out.stream,
    );
    expect((JSON.parse(out.text()) as { webhookSecrets: unknown }).webhookSecrets).toEqual({
      scanned: 1,
      reencrypted: 1,
      failed: [],
    });
    // Readable with the new key alone: the old one can now be dropped.
    expect(await new NotificationRepository(scratch.db, new Keyring([newKey])).webhookSecret(user.id)).toBe(secret);
  });

  it('should exit with an error naming connections it could not decrypt', async () => {
    const user = await newUser(scratch.db);
    const lost = await newConnection(scratch.db, user.id, {
      credentialsCiphertext: new Keyring([{ id: 'gone', key: randomBytes(32) }]).encrypt('x'),
      credentialsKeyId: 'gone',
    });
    const out = capture();
    const env = { DATABASE_URL: scratch.url, TRIBUTARY_ENCRYPTION_KEYS: spec([newKey]) };
    await expect(runKeysRotate({}, env, out.stream)).rejects.toBeInstanceOf(RotationIncompleteError);
    expect(out.text()).toContain(`failed: connection ${lost.id} (crypto_unknown_key)`);
    await scratch.db.deleteFrom('connections').where('id', '=', lost.id).execute();
  });

  it('should refuse to run without keys', async () => {
    await expect(runKeysRotate({}, { DATABASE_URL: scratch.url }, capture().stream)).rejects.toMatchObject({
      code: 'config',
    });
  });
});
