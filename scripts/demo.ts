/**
 * `npm run demo`: the whole hub on one machine from a fresh clone. Starts (or reuses) Postgres and Redis, runs the
 * migrations, then the provider sandbox, the web app and the worker as child processes wired to each other, waits
 * until /health/ready answers 200 and prints the URL. Ctrl-C stops everything it started.
 *
 * Apps run from their TypeScript sources through scripts/register-ts.js (SWC, no type check), so the demo needs no
 * build; `--built` runs the `npm run build` output instead.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { connectRedis, describeError, redactUrl, type RedisConnection } from '@tributary/common';
import { loadConfig, type AppConfig } from '@tributary/config';
import { openDatabase, startEmbeddedPostgres, type EmbeddedPostgres } from '@tributary/db';

const ROOT = resolve(__dirname, '..');
const BUILT = process.argv.includes('--built');
const READY_TIMEOUT_MS = 60_000;
/** Every role in one process, as on a single self-hosted box: maintenance jobs share a queue, so split roles only
 * the way the deployment manifests do (sync workers apart, watchdog + stats + scheduler together). */
const DEMO_WORKER_ROLES = 'sync,watchdog,stats,scheduler';

type AppName = 'sandbox' | 'web' | 'worker';

interface Child {
  name: AppName;
  process: ChildProcess;
  log: WriteStream;
  logFile: string;
  exited: Promise<number | null>;
}

const started = Date.now();
const children: Child[] = [];
let redis: RedisConnection | undefined;
let embedded: EmbeddedPostgres | undefined;
let stopping = false;

function say(message: string): void {
  const seconds = ((Date.now() - started) / 1000).toFixed(1).padStart(5);
  process.stdout.write(`[demo ${seconds}s] ${message}\n`);
}

function entry(name: AppName): string[] {
  if (BUILT) return [join(ROOT, 'dist', 'apps', name, 'apps', name, 'src', 'main.js')];
  return ['--require', join(ROOT, 'scripts', 'register-ts.js'), join(ROOT, 'apps', name, 'src', 'main.ts')];
}

function portIsFree(port: number, host: string): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, host, () => server.close(() => done(true)));
  });
}

async function pickPort(preferred: number, host: string): Promise<number> {
  if (await portIsFree(preferred, host)) return preferred;
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => done(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/** A secret the demo generates once and keeps under the data dir, so restarts can read what earlier runs stored. */
function persistentSecret(dataDir: string, file: string, make: () => string): string {
  const path = join(dataDir, file);
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const value = make();
  writeFileSync(path, `${value}\n`, { mode: 0o600 });
  return value;
}

function startChild(name: AppName, env: NodeJS.ProcessEnv, logDir: string, args: string[] = []): Child {
  const logFile = join(logDir, `${name}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, [...entry(name), ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const echoImportant = (chunk: Buffer) => {
    log.write(chunk);
    for (const line of chunk.toString().split('\n')) {
      // Children log JSON; only errors reach the terminal, everything is in the log file.
      const level = /^\{"level":(\d+)/.exec(line)?.[1];
      if (level !== undefined && Number(level) >= 50) process.stdout.write(`[${name}] ${line}\n`);
    }
  };
  child.stdout?.on('data', echoImportant);
  child.stderr?.on('data', (chunk: Buffer) => {
    log.write(chunk);
    process.stderr.write(`[${name}] ${chunk.toString()}`);
  });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const record: Child = { name, process: child, log, logFile, exited };
  children.push(record);
  void exited.then((code) => {
    if (!stopping) {
      say(`${name} exited unexpectedly (code ${code}); see ${logFile}`);
      void shutdown(1);
    }
  });
  return record;
}

/** Reads the sandbox's start-up banner: its base URLs (`  STRAVA_BASE_URL=…`) and demo OAuth client credentials. */
function sandboxEnv(sandbox: Child): Promise<Record<string, string>> {
  return new Promise((done, fail) => {
    let text = '';
    const timer = setTimeout(() => fail(new Error('sandbox did not print its URLs within 30 s')), 30_000);
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      const env: Record<string, string> = {};
      for (const [, key, value] of text.matchAll(/^\s+([A-Z_]+_URL)=(\S+)$/gm)) env[key as string] = value as string;
      const strava = /Strava client (\S+) \/ (\S+);/.exec(text);
      const dropbox = /Dropbox app (\S+) \/ (\S+)$/m.exec(text);
      if (env.STRAVA_BASE_URL === undefined || strava === null || dropbox === null) return;
      env.STRAVA_CLIENT_ID = strava[1] as string;
      env.STRAVA_CLIENT_SECRET = strava[2] as string;
      env.DROPBOX_CLIENT_ID = dropbox[1] as string;
      env.DROPBOX_CLIENT_SECRET = dropbox[2] as string;
      clearTimeout(timer);
      sandbox.process.stdout?.off('data', onData);
      done(env);
    };
    sandbox.process.stdout?.on('data', onData);
  });
}

async function waitUntilReady(url: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    try {
      const res = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline)
      throw new Error(`${url}/health/ready did not answer 200 within ${READY_TIMEOUT_MS / 1000} s`);
    if (stopping) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  say('stopping…');
  // Worker first so it drains before the web app and the sandbox it talks to go away.
  for (const name of ['worker', 'web', 'sandbox'] as const) {
    const child = children.find((c) => c.name === name);
    if (child === undefined || child.process.exitCode !== null || child.process.signalCode !== null) continue;
    child.process.kill('SIGTERM');
    const killer = setTimeout(() => child.process.kill('SIGKILL'), 30_000);
    await child.exited;
    clearTimeout(killer);
    child.log.end();
  }
  if (redis !== undefined) await redis.close().catch(() => undefined);
  if (embedded !== undefined) {
    const result = await embedded.stop().catch((err: unknown) => `not stopped: ${describeError(err)}`);
    say(`embedded Postgres ${result}`);
  }
  say('stopped');
  process.exit(code);
}

async function main(): Promise<void> {
  const config: AppConfig = loadConfig();
  const dataDir = resolve(ROOT, config.database.dataDir);
  const logDir = join(dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));

  let databaseUrl = config.database.url;
  if (databaseUrl === undefined) {
    say(`starting embedded Postgres in ${join(dataDir, 'pg')}`);
    embedded = await startEmbeddedPostgres({ dataDir, port: config.database.embeddedPort });
    databaseUrl = embedded.url;
  }
  const database = await openDatabase(
    { ...config.database, url: databaseUrl },
    { poolSize: 1, applicationName: 'tributary-demo' },
  );
  await database.close();
  say(`Postgres ready and migrated (${embedded === undefined ? redactUrl(databaseUrl) : 'embedded'})`);

  redis = await connectRedis({ url: config.redis.url, startPrivate: true });
  say(
    redis.privateServer === undefined
      ? `using Redis at ${redactUrl(redis.url)}`
      : `no Redis at ${redactUrl(config.redis.url)}; started a private redis-server on port ${redis.privateServer.port}`,
  );

  const host = '127.0.0.1';
  const webPort = await pickPort(config.web.port, host);
  const sandboxPort = await pickPort(config.sandbox.port, host);
  const webUrl = `http://${host}:${webPort}`;
  const baseEnv: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: process.env.NODE_ENV ?? 'development',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redis.url,
    REDIS_START_PRIVATE: 'false',
    TRIBUTARY_ENCRYPTION_KEYS:
      config.encryptionKeys.length > 0
        ? process.env.TRIBUTARY_ENCRYPTION_KEYS
        : `demo:${persistentSecret(dataDir, 'demo-encryption-key', () => randomBytes(32).toString('base64'))}`,
    SESSION_SECRET:
      config.web.sessionSecret ??
      persistentSecret(dataDir, 'demo-session-secret', () => randomBytes(32).toString('hex')),
  };

  const sandbox = startChild('sandbox', { ...baseEnv, SANDBOX_HOST: host, SANDBOX_PORT: String(sandboxPort) }, logDir, [
    '--seed',
  ]);
  const providerEnv = await sandboxEnv(sandbox);
  say(`sandbox providers on http://${host}:${sandboxPort}`);

  const appEnv = {
    ...baseEnv,
    ...providerEnv,
    WEB_HOST: host,
    WEB_PORT: String(webPort),
    TRIBUTARY_PUBLIC_URL: webUrl,
  };
  startChild('web', appEnv, logDir);
  // Its own port: the worker's default (3000, its own pod in a deployment) is the web app's here.
  const workerPort = await pickPort(webPort < 65535 ? webPort + 1 : 0, host);
  startChild('worker', { ...appEnv, WORKER_ROLES: DEMO_WORKER_ROLES, WORKER_HTTP_PORT: String(workerPort) }, logDir);
  await waitUntilReady(webUrl);
  if (stopping) return;
  say(`Tributary is ready: ${webUrl}  (logs in ${logDir}; Ctrl-C stops everything)`);
  say(`worker probes and metrics on http://${host}:${workerPort}/metrics; API docs at ${webUrl}/api/docs`);
}

main().catch((err: unknown) => {
  say(`demo failed: ${describeError(err)}`);
  void shutdown(1);
});
