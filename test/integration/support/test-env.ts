import { createServer } from 'node:net';

/** Which database the current integration project runs against (jest.config.js `globals.TRIBUTARY_TEST_DB`). */
export type TestTarget = 'server' | 'embedded';

/** The Postgres server integration tests use for the `server` target (trust auth on this machine and in CI). */
export const SERVER_ADMIN_URL = process.env.TRIBUTARY_TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDbInfo {
  /** The shared, migrated database of this run. */
  url: string;
  /** A database on the same server from which scratch databases are created and dropped. */
  adminUrl: string;
}

/**
 * global-setup hands the connection details to the test files through the environment (jest forks its workers, or
 * runs in band, after global setup), one variable per target.
 */
function envKey(target: TestTarget): string {
  return `TRIBUTARY_TEST_DB_INFO_${target.toUpperCase()}`;
}

export function writeTestDbInfo(target: TestTarget, info: TestDbInfo): void {
  process.env[envKey(target)] = JSON.stringify(info);
}

export function removeTestDbInfo(target: TestTarget): void {
  delete process.env[envKey(target)];
}

/** A target that could not be prepared: its tests fail with this reason, the other target's tests still run. */
export function writeTestDbFailure(target: TestTarget, reason: string): void {
  process.env[envKey(target)] = JSON.stringify({ error: reason });
}

export function readTestDbInfo(target: TestTarget): TestDbInfo {
  const raw = process.env[envKey(target)];
  if (raw === undefined) {
    throw new TypeError(`${envKey(target)} is not set: run integration tests through jest's integration projects`);
  }
  const info = JSON.parse(raw) as TestDbInfo | { error: string };
  if ('error' in info) throw new TypeError(`The ${target} test database could not be prepared: ${info.error}`);
  return info;
}

/** Targets whose projects this jest run includes (`--selectProjects`), or both. */
export function selectedTargets(selectProjects: readonly string[] | null | undefined): TestTarget[] {
  const all: TestTarget[] = ['server', 'embedded'];
  if (!selectProjects || selectProjects.length === 0) return all;
  return all.filter((t) => selectProjects.includes(`integration:${t}`));
}

export function asTarget(value: unknown): TestTarget {
  if (value === 'server' || value === 'embedded') return value;
  throw new TypeError(`TRIBUTARY_TEST_DB must be 'server' or 'embedded', got ${String(value)}`);
}

/** A port nobody listens on right now, for an embedded server of our own. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Replaces the database name in a postgres URL. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
