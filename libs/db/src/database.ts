import { Kysely, PostgresDialect, sql } from 'kysely';
import { Pool } from 'pg';
import { UnavailableError, describeError } from '@tributary/common';
import { type AppConfig } from '@tributary/config';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded/embedded-postgres';
import { migrateToLatest } from './migrator';
import { type DB } from './schema';

export type DatabaseKind = 'server' | 'embedded';

export interface Database {
  db: Kysely<DB>;
  kind: DatabaseKind;
  /** Throws UnavailableError when the database does not answer. */
  ping(): Promise<void>;
  /** Closes the pool; for the embedded engine also stops the server unless another process still uses it. */
  close(): Promise<void>;
}

export interface CreateDatabaseOptions {
  /** Shown in pg_stat_activity, e.g. `tributary-web`. */
  applicationName?: string;
  log?: (message: string) => void;
  /** Pool size override (the CLI needs one connection, not the configured ten). */
  poolSize?: number;
  /** Embedded engine only: see EmbeddedPostgresOptions.durable. Never false in production. */
  durable?: boolean;
}

/**
 * Opens the database described by config: the server at `url`, or, when no url is configured, the embedded Postgres
 * engine under `dataDir` (started if it is not already running for that directory).
 */
export async function createDatabase(
  config: AppConfig['database'],
  opts: CreateDatabaseOptions = {},
): Promise<Database> {
  let embedded: EmbeddedPostgres | undefined;
  let url = config.url;
  if (url === undefined) {
    embedded = await startEmbeddedPostgres({
      dataDir: config.dataDir,
      port: config.embeddedPort,
      log: opts.log,
      durable: opts.durable,
    });
    url = embedded.url;
  }
  const pool = new Pool({
    connectionString: url,
    max: opts.poolSize ?? config.poolSize,
    application_name: opts.applicationName ?? 'tributary',
    connectionTimeoutMillis: 10_000,
  });
  // An idle client losing its connection (server restart) must not crash the process; the pool replaces it.
  pool.on('error', (err) => opts.log?.(`postgres pool error: ${describeError(err)}`));
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  const ping = async () => {
    try {
      await sql`SELECT 1`.execute(db);
    } catch (err) {
      throw new UnavailableError('postgres', describeError(err), err);
    }
  };
  const kind: DatabaseKind = embedded === undefined ? 'server' : 'embedded';
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await db.destroy();
    if (embedded !== undefined) await embedded.stop();
  };
  try {
    await ping();
  } catch (err) {
    await close();
    throw err;
  }
  return { db, kind, ping, close };
}

/** What the apps call at boot: open the database and bring the schema up to date. */
export async function openDatabase(config: AppConfig['database'], opts: CreateDatabaseOptions = {}): Promise<Database> {
  const database = await createDatabase(config, opts);
  try {
    const { applied } = await migrateToLatest(database.db);
    if (applied.length > 0) opts.log?.(`applied migrations: ${applied.join(', ')}`);
    return database;
  } catch (err) {
    await database.close();
    throw err;
  }
}
