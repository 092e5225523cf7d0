import './support/register-aliases';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import { Client, Pool } from 'pg';
import { migrateToLatest, startEmbeddedPostgres } from '@tributary/db';
import {
  SERVER_ADMIN_URL,
  type TestDbInfo,
  type TestTarget,
  freePort,
  removeTestDbInfo,
  selectedTargets,
  withDatabase,
  writeTestDbFailure,
  writeTestDbInfo,
} from './support/test-env';
import { registerTeardown } from './support/teardown-registry';

/** A fresh, uniquely named database on the local Postgres server. */
async function setUpServer(): Promise<TestDbInfo> {
  const name = `tributary_int_${Date.now()}_${randomBytes(3).toString('hex')}`;
  const admin = new Client({ connectionString: SERVER_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)}`);
  await admin.end();
  registerTeardown(async () => {
    const c = new Client({ connectionString: SERVER_ADMIN_URL });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(name)} WITH (FORCE)`);
    await c.end();
  });
  return { url: withDatabase(SERVER_ADMIN_URL, name), adminUrl: SERVER_ADMIN_URL };
}

/** The embedded engine in a temporary data directory on a free port. */
async function setUpEmbedded(): Promise<TestDbInfo> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tributary-int-'));
  const engine = await startEmbeddedPostgres({
    dataDir,
    port: await freePort(),
    database: 'tributary_int',
    durable: false,
  });
  registerTeardown(async () => {
    await engine.stop({ force: true });
    await rm(dataDir, { recursive: true, force: true });
  });
  return { url: engine.url, adminUrl: withDatabase(engine.url, 'postgres') };
}

async function setUp(target: TestTarget): Promise<void> {
  let info: TestDbInfo;
  try {
    info = target === 'server' ? await setUpServer() : await setUpEmbedded();
  } catch (err) {
    writeTestDbFailure(target, err instanceof Error ? err.message : String(err));
    return;
  }
  const db = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool: new Pool({ connectionString: info.url, max: 1 }) }),
  });
  try {
    await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
  writeTestDbInfo(target, info);
  registerTeardown(() => Promise.resolve(removeTestDbInfo(target)));
}

/**
 * Jest runs a globalSetup module once even when two projects name it, so this one file prepares every selected
 * target: `server` gets a fresh database on the local server, `embedded` the embedded engine in a temp directory.
 * The schema is migrated once here; test files find the URLs through test-env.ts (environment).
 */
export default async function globalSetup(globalConfig: { selectProjects?: string[] | null }): Promise<void> {
  await Promise.all(selectedTargets(globalConfig.selectProjects).map(setUp));
}
