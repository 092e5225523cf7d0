import { readFileSync } from 'node:fs';
import { ConfigError } from '@tributary/common';
import { CONFIG_PREFIXES, SECRET_KEYS, envSchema, type Env } from './env.schema';

export type WorkerRole = 'sync' | 'watchdog' | 'stats' | 'scheduler';
const WORKER_ROLES: readonly WorkerRole[] = ['sync', 'watchdog', 'stats', 'scheduler'];

export interface EncryptionKey {
  id: string;
  key: Buffer;
}

/** The typed, validated configuration every app receives. Built once at boot by `loadConfig`. */
export interface AppConfig {
  env: Env['NODE_ENV'];
  logLevel: Env['LOG_LEVEL'];
  database: { url?: string; poolSize: number; dataDir: string; embeddedPort: number };
  redis: { url: string; startPrivate: boolean; queuePrefix: string };
  web: {
    port: number;
    host: string;
    publicUrl: string;
    sessionSecret?: string;
    /** Activity map tiles; undefined = no tile layer. */
    mapTileUrl?: string;
    mapTileAttribution?: string;
  };
  /** Empty when no keys are configured; anything that stores credentials refuses to run then. */
  encryptionKeys: EncryptionKey[];
  worker: {
    roles: WorkerRole[];
    syncConcurrency: number;
    syncIntervalMinutes: number;
    syncNowCooldownSeconds: number;
    webhookDebounceSeconds: number;
    heartbeatStaleSeconds: number;
    listingStaleSeconds: number;
  };
  sandbox: { port: number; host: string; seed: boolean; fixturesDir?: string };
  /** The stats job (WORKER_ROLES stats). */
  stats: { retentionDays: number; topErrorGroups: number };
  /** Blocking-error notifications (email via SMTP, signed webhooks). */
  notifications: { smtpUrl?: string; smtpFrom: string; allowHttpWebhooks: boolean };
  /** Probes and Prometheus metrics. */
  observability: { workerHttp: { port: number; host: string }; metricsToken?: string };
  services: {
    strava: {
      baseUrl: string;
      clientId?: string;
      clientSecret?: string;
      webhookVerifyToken?: string;
      webhookSubscriptionId?: string;
      limits: { shortTerm: number; daily: number; readShortTerm: number; readDaily: number };
    };
    garmin: { baseUrl: string; ssoUrl: string; requestsPerSecond: number };
    dropbox: { apiUrl: string; contentUrl: string; notifyUrl: string; clientId?: string; clientSecret?: string };
    localFolder: { root?: string };
  };
}

const SECRET_SET: ReadonlySet<string> = new Set(SECRET_KEYS);
const KNOWN_KEYS: ReadonlySet<string> = new Set(Object.keys(envSchema.shape));

/** Reads `KEY_FILE` secrets and rejects unknown keys in our namespaces; returns the raw key/value map. */
function collectEnv(source: NodeJS.ProcessEnv): Record<string, string> {
  const raw: Record<string, string> = {};
  const unknown: string[] = [];
  for (const [name, value] of Object.entries(source)) {
    if (value === undefined || !CONFIG_PREFIXES.some((p) => name.startsWith(p))) continue;
    if (name.endsWith('_FILE') && SECRET_SET.has(name.slice(0, -5))) continue;
    if (!KNOWN_KEYS.has(name)) unknown.push(name);
    else if (value !== '') raw[name] = value;
  }
  for (const name of ['NODE_ENV', 'LOG_LEVEL']) {
    const value = source[name];
    if (value !== undefined && value !== '') raw[name] = value;
  }
  if (unknown.length > 0) {
    throw new ConfigError(`Unknown configuration key(s): ${unknown.sort().join(', ')}`, { keys: unknown });
  }
  for (const key of SECRET_KEYS) {
    const file = source[`${key}_FILE`];
    if (file === undefined || file === '') continue;
    if (raw[key] !== undefined) throw new ConfigError(`Both ${key} and ${key}_FILE are set; use one`, { key });
    try {
      // An empty mounted secret means "not set", exactly like an empty variable.
      const value = readFileSync(file, 'utf8').trim();
      if (value !== '') raw[key] = value;
    } catch (err) {
      throw new ConfigError(`${key}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, {
        key: `${key}_FILE`,
      });
    }
  }
  return raw;
}

export function parseEncryptionKeys(spec: string | undefined): EncryptionKey[] {
  if (spec === undefined) return [];
  const keys = spec
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((entry) => {
      const at = entry.indexOf(':');
      const id = at > 0 ? entry.slice(0, at) : '';
      if (!/^[A-Za-z0-9_-]{1,32}$/.test(id)) {
        throw new ConfigError('TRIBUTARY_ENCRYPTION_KEYS: each entry must be `id:base64key` with a short id', {
          key: 'TRIBUTARY_ENCRYPTION_KEYS',
        });
      }
      const key = Buffer.from(entry.slice(at + 1), 'base64');
      if (key.length !== 32) {
        throw new ConfigError(`TRIBUTARY_ENCRYPTION_KEYS: key ${id} must decode to 32 bytes, got ${key.length}`, {
          key: 'TRIBUTARY_ENCRYPTION_KEYS',
        });
      }
      return { id, key };
    });
  const ids = keys.map((k) => k.id);
  if (new Set(ids).size !== ids.length) {
    throw new ConfigError('TRIBUTARY_ENCRYPTION_KEYS: key ids must be unique', { key: 'TRIBUTARY_ENCRYPTION_KEYS' });
  }
  return keys;
}

function parseRoles(spec: string): WorkerRole[] {
  const roles = spec
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r !== '');
  const bad = roles.filter((r) => !(WORKER_ROLES as readonly string[]).includes(r));
  if (bad.length > 0) {
    throw new ConfigError(`WORKER_ROLES: unknown role(s) ${bad.join(', ')}; known: ${WORKER_ROLES.join(', ')}`, {
      key: 'WORKER_ROLES',
    });
  }
  return [...new Set(roles)] as WorkerRole[];
}

function stravaLimits(spec: string): AppConfig['services']['strava']['limits'] {
  const [shortTerm = 0, daily = 0, readShortTerm = 0, readDaily = 0] = spec.split(',').map(Number);
  return { shortTerm, daily, readShortTerm, readDaily };
}

/** Validates the environment once into a typed object; throws ConfigError naming every offending key. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = envSchema.safeParse(collectEnv(source));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`, {
      keys: parsed.error.issues.map((i) => i.path.join('.')),
    });
  }
  const e = parsed.data;
  if (e.SYNC_LISTING_STALE_SECONDS < e.SYNC_HEARTBEAT_STALE_SECONDS) {
    throw new ConfigError('SYNC_LISTING_STALE_SECONDS must not be below SYNC_HEARTBEAT_STALE_SECONDS', {
      keys: ['SYNC_LISTING_STALE_SECONDS'],
    });
  }
  return {
    env: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    database: {
      url: e.DATABASE_URL,
      poolSize: e.DATABASE_POOL_SIZE,
      dataDir: e.TRIBUTARY_DATA_DIR,
      embeddedPort: e.TRIBUTARY_EMBEDDED_PG_PORT,
    },
    redis: { url: e.REDIS_URL, startPrivate: e.REDIS_START_PRIVATE, queuePrefix: e.TRIBUTARY_QUEUE_PREFIX },
    web: {
      port: e.WEB_PORT,
      host: e.WEB_HOST,
      publicUrl: e.TRIBUTARY_PUBLIC_URL,
      sessionSecret: e.SESSION_SECRET,
      mapTileUrl: e.WEB_MAP_TILE_URL,
      mapTileAttribution: e.WEB_MAP_TILE_ATTRIBUTION,
    },
    encryptionKeys: parseEncryptionKeys(e.TRIBUTARY_ENCRYPTION_KEYS),
    worker: {
      roles: parseRoles(e.WORKER_ROLES),
      syncConcurrency: e.SYNC_CONCURRENCY,
      syncIntervalMinutes: e.SYNC_INTERVAL_MINUTES,
      syncNowCooldownSeconds: e.SYNC_NOW_COOLDOWN_SECONDS,
      webhookDebounceSeconds: e.SYNC_WEBHOOK_DEBOUNCE_SECONDS,
      heartbeatStaleSeconds: e.SYNC_HEARTBEAT_STALE_SECONDS,
      listingStaleSeconds: e.SYNC_LISTING_STALE_SECONDS,
    },
    sandbox: { port: e.SANDBOX_PORT, host: e.SANDBOX_HOST, seed: e.SANDBOX_SEED, fixturesDir: e.SANDBOX_FIXTURES_DIR },
    stats: { retentionDays: e.STATS_RETENTION_DAYS, topErrorGroups: e.STATS_TOP_ERROR_GROUPS },
    notifications: {
      smtpUrl: e.SMTP_URL,
      smtpFrom: e.SMTP_FROM,
      allowHttpWebhooks: e.TRIBUTARY_NOTIFY_ALLOW_HTTP_WEBHOOKS,
    },
    observability: {
      workerHttp: { port: e.WORKER_HTTP_PORT, host: e.WORKER_HTTP_HOST ?? e.WEB_HOST },
      metricsToken: e.TRIBUTARY_METRICS_TOKEN,
    },
    services: {
      strava: {
        baseUrl: e.STRAVA_BASE_URL,
        clientId: e.STRAVA_CLIENT_ID,
        clientSecret: e.STRAVA_CLIENT_SECRET,
        webhookVerifyToken: e.STRAVA_WEBHOOK_VERIFY_TOKEN,
        webhookSubscriptionId: e.STRAVA_WEBHOOK_SUBSCRIPTION_ID,
        limits: stravaLimits(e.STRAVA_RATE_LIMITS),
      },
      garmin: { baseUrl: e.GARMIN_BASE_URL, ssoUrl: e.GARMIN_SSO_URL, requestsPerSecond: e.GARMIN_REQUESTS_PER_SECOND },
      dropbox: {
        apiUrl: e.DROPBOX_BASE_URL,
        contentUrl: e.DROPBOX_CONTENT_URL,
        notifyUrl: e.DROPBOX_NOTIFY_URL,
        clientId: e.DROPBOX_CLIENT_ID,
        clientSecret: e.DROPBOX_CLIENT_SECRET,
      },
      localFolder: { root: e.LOCAL_FOLDER_ROOT },
    },
  };
}
