import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { RetryableError } from '../errors/domain.error';
import { redactUrl } from '../logging/redaction.util';

export interface RedisSettings {
  url: string;
  /** Start a private redis-server from PATH when `url` is unreachable (developer machines, the demo). */
  startPrivate: boolean;
}

export interface RedisConnectOptions {
  /** How long the boot-time reachability probe may take. */
  probeTimeoutMs?: number;
  /** Called with progress messages (private server started/stopped); silent when omitted. */
  onInfo?: (message: string, fields?: Record<string, unknown>) => void;
}

/** Redis cannot be reached at boot. Code `unavailable` like UnavailableError, with a message that says what to do. */
export class RedisUnreachableError extends RetryableError {
  constructor(message: string, cause?: unknown) {
    super('unavailable', message, { cause, details: { what: 'redis' } });
  }
}

export interface RedisConnection {
  /** The URL actually in use (the private server's when one was started); may contain a password, never log it raw. */
  readonly url: string;
  /** Set when this process started its own redis-server. */
  readonly privateServer?: { port: number; pid: number };
  /**
   * A new client for long-lived use (BullMQ queues/workers, app code). `maxRetriesPerRequest: null` is what BullMQ
   * requires: commands wait across reconnects instead of failing. The connection closes them all on `close()`.
   */
  createClient(name?: string): Redis;
  /** PING through a dedicated fail-fast client; rejects after `timeoutMs` (readiness checks). */
  ping(timeoutMs?: number): Promise<void>;
  /** Quits every client created here and stops the private server, if any. Idempotent. */
  close(): Promise<void>;
}

const DEFAULT_PROBE_TIMEOUT_MS = 2000;

/** Connects to Redis at boot: fails fast with a clear message, or starts a private server when allowed. */
export async function connectRedis(
  settings: RedisSettings,
  options: RedisConnectOptions = {},
): Promise<RedisConnection> {
  const probeTimeoutMs = options.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const failure = await probe(settings.url, probeTimeoutMs);
  if (failure === undefined) return new ManagedRedisConnection(settings.url);

  const where = redactUrl(settings.url);
  if (!settings.startPrivate) {
    throw new RedisUnreachableError(
      `Redis is not reachable at ${where}: ${failure}. Start redis-server or set REDIS_URL` +
        ' (or REDIS_START_PRIVATE=true to start a private one).',
    );
  }
  const binary = findOnPath('redis-server');
  if (binary === undefined) {
    throw new RedisUnreachableError(
      `Redis is not reachable at ${where}: ${failure}, and REDIS_START_PRIVATE is set but redis-server is not on PATH.` +
        ' Install redis-server or set REDIS_URL.',
    );
  }
  const server = await startPrivateServer(binary, probeTimeoutMs);
  options.onInfo?.('started a private redis-server', { port: server.port, pid: server.pid, unreachable: where });
  return new ManagedRedisConnection(`redis://127.0.0.1:${server.port}`, server, options.onInfo);
}

function failFastOptions(timeoutMs: number): RedisOptions {
  return {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    // ioredis otherwise keeps a dead socket's close timer for 2 s, holding up a failing boot's exit.
    disconnectTimeout: 50,
  };
}

/** Returns undefined when PING succeeds, otherwise a short reason (ECONNREFUSED, timeout…). */
async function probe(url: string, timeoutMs: number): Promise<string | undefined> {
  const client = new Redis(url, failFastOptions(timeoutMs));
  // connect() rejects with a generic "Connection is closed"; the socket error event carries the useful code.
  let socketError: unknown;
  client.on('error', (err) => {
    socketError ??= err;
  });
  try {
    await withTimeout(
      client.connect().then(() => client.ping()),
      timeoutMs,
    );
    return undefined;
  } catch (err) {
    return reasonOf(socketError ?? err);
  } finally {
    client.disconnect();
  }
}

function reasonOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string') return code;
  return err instanceof Error ? err.message : String(err);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisUnreachableError(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function findOnPath(name: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path !== '' ? path : undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

interface PrivateServer {
  port: number;
  pid: number;
  process: ChildProcess;
  dir: string;
}

async function startPrivateServer(binary: string, timeoutMs: number): Promise<PrivateServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tributary-redis-'));
  // No persistence and loopback only: this server is a throwaway for one process tree.
  const child = spawn(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const pid = child.pid;
  const deadline = Date.now() + Math.max(timeoutMs, 5000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null || pid === undefined) break;
    if ((await probe(`redis://127.0.0.1:${port}`, 500)) === undefined) {
      return { port, pid, process: child, dir };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  throw new RedisUnreachableError(
    `Could not start a private redis-server on port ${port}${stderr === '' ? '' : `: ${stderr.trim()}`}`,
  );
}

class ManagedRedisConnection implements RedisConnection {
  private readonly clients = new Set<Redis>();
  private pinger?: Redis;
  private closing?: Promise<void>;
  private readonly exitGuard?: () => void;

  constructor(
    readonly url: string,
    private readonly server?: PrivateServer,
    private readonly onInfo?: RedisConnectOptions['onInfo'],
  ) {
    if (server !== undefined) {
      // Last resort if the process ends without close(): never leave an orphaned redis-server behind.
      this.exitGuard = () => server.process.kill('SIGKILL');
      process.once('exit', this.exitGuard);
    }
  }

  get privateServer(): { port: number; pid: number } | undefined {
    return this.server === undefined ? undefined : { port: this.server.port, pid: this.server.pid };
  }

  createClient(name?: string): Redis {
    const client = new Redis(this.url, {
      maxRetriesPerRequest: null,
      connectionName: name === undefined ? 'tributary' : `tributary:${name}`,
    });
    // Reconnects are ioredis's job; the listener keeps transient errors from becoming unhandled 'error' events.
    client.on('error', () => undefined);
    this.clients.add(client);
    client.once('end', () => this.clients.delete(client));
    return client;
  }

  async ping(timeoutMs = 1000): Promise<void> {
    if (this.closing !== undefined) throw new RedisUnreachableError('Redis connection is closed');
    if (this.pinger === undefined) {
      this.pinger = new Redis(this.url, {
        ...failFastOptions(timeoutMs),
        lazyConnect: false,
        // The first PING may come before the socket is up; queued commands are still bounded by withTimeout.
        enableOfflineQueue: true,
        // Unlike the boot probe this client lives on, so it keeps trying to reconnect in the background.
        retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
        connectionName: 'tributary:health',
      });
      this.pinger.on('error', () => undefined);
    }
    const pinger = this.pinger;
    try {
      await withTimeout(pinger.ping(), timeoutMs);
    } catch (err) {
      throw new RedisUnreachableError(`Redis PING failed at ${redactUrl(this.url)}: ${reasonOf(err)}`, err);
    }
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    const all = [...this.clients, ...(this.pinger === undefined ? [] : [this.pinger])];
    await Promise.all(
      all.map((c) =>
        c.status === 'ready'
          ? c.quit().then(
              () => undefined,
              () => c.disconnect(),
            )
          : Promise.resolve(c.disconnect()),
      ),
    );
    this.clients.clear();
    if (this.server === undefined) return;
    const { process: child, dir, pid, port } = this.server;
    if (this.exitGuard !== undefined) process.removeListener('exit', this.exitGuard);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
    this.onInfo?.('stopped the private redis-server', { port, pid });
  }
}
