import { randomBytes } from 'node:crypto';
import { Kysely, PostgresDialect } from 'kysely';
import { Client, Pool } from 'pg';
import { Keyring } from '@tributary/common';
import { type DB, createRepositories, migrateToLatest, type Repositories } from '@tributary/db';
import { type TestTarget, asTarget, readTestDbInfo, withDatabase } from './test-env';

/** The target of the running integration project. */
export function testTarget(): TestTarget {
  return asTarget((globalThis as { TRIBUTARY_TEST_DB?: unknown }).TRIBUTARY_TEST_DB);
}

/** URL of the shared, migrated database for this run and target. */
export function testDatabaseUrl(): string {
  return readTestDbInfo(testTarget()).url;
}

export interface TestDb {
  db: Kysely<DB>;
  url: string;
  close(): Promise<void>;
}

function open(url: string, max: number): TestDb {
  const pool = new Pool({ connectionString: url, max });
  pool.on('error', () => undefined);
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return { db, url, close: () => db.destroy() };
}

/**
 * A Kysely instance on the shared database, already migrated by global-setup. Tests share it and stay apart by
 * creating their own users (see factories.ts); never truncate or migrate it.
 */
export function openTestDb(opts: { poolSize?: number } = {}): TestDb {
  return open(testDatabaseUrl(), opts.poolSize ?? 4);
}

export interface ScratchDb extends TestDb {
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/**
 * A brand-new empty database on the current target (for tests that change the schema itself, like migrations);
 * migrated when asked. Always `drop()` it.
 */
export async function createScratchDatabase(opts: { migrate?: boolean } = {}): Promise<ScratchDb> {
  const { adminUrl } = readTestDbInfo(testTarget());
  const name = `tributary_scratch_${randomBytes(5).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)}`);
  await admin.end();
  const handle = open(withDatabase(adminUrl, name), 4);
  if (opts.migrate) await migrateToLatest(handle.db);
  return {
    ...handle,
    async drop() {
      await handle.close();
      const c = new Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(name)} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A keyring with fresh random keys (first encrypts). */
export function testKeyring(ids: string[] = ['k1']): Keyring {
  return new Keyring(ids.map((id) => ({ id, key: randomBytes(32) })));
}

export interface TestContext extends TestDb {
  repos: Repositories;
  keyring: Keyring;
}

/** Shared database + every repository + a random keyring: the usual start of an integration spec. */
export function createTestContext(opts: { keyring?: Keyring; poolSize?: number } = {}): TestContext {
  const handle = openTestDb(opts);
  const keyring = opts.keyring ?? testKeyring();
  return { ...handle, keyring, repos: createRepositories(handle.db, keyring) };
}
