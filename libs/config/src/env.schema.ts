import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const url = z.string().url();

/**
 * Every environment variable the hub reads. Keys with one of CONFIG_PREFIXES that are not listed here are
 * rejected at boot, so a typo (STRAVA_CLIENT_SECERT) fails fast instead of silently falling back to a default.
 * A key in SECRET_KEYS may instead be given as `<KEY>_FILE` (a path whose contents are the value).
 */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  // Storage: no DATABASE_URL means the embedded Postgres engine with its data under TRIBUTARY_DATA_DIR.
  DATABASE_URL: url.optional(),
  DATABASE_POOL_SIZE: int(1, 200).default(10),
  TRIBUTARY_DATA_DIR: z.string().min(1).default('.data'),
  TRIBUTARY_EMBEDDED_PG_PORT: int(1, 65535).default(54329),

  REDIS_URL: url.default('redis://127.0.0.1:6379'),
  /** When Redis is unreachable, start a private redis-server from PATH instead of failing. */
  REDIS_START_PRIVATE: bool.default(false),
  TRIBUTARY_QUEUE_PREFIX: z.string().min(1).default('tributary'),

  WEB_PORT: int(0, 65535).default(3000),
  WEB_HOST: z.string().default('127.0.0.1'),
  TRIBUTARY_PUBLIC_URL: url.default('http://localhost:3000'),
  SESSION_SECRET: z.string().min(32).optional(),

  /** `id:base64key` pairs, comma separated; each key is 32 bytes. The first one encrypts, all of them decrypt. */
  TRIBUTARY_ENCRYPTION_KEYS: z.string().min(1).optional(),

  WORKER_ROLES: z.string().default('sync,watchdog,stats,scheduler'),
  SYNC_CONCURRENCY: int(1, 256).default(4),
  SYNC_INTERVAL_MINUTES: int(1, 10080).default(60),
  SYNC_NOW_COOLDOWN_SECONDS: int(0, 3600).default(30),
  /** A webhook's sync waits this long so a burst of events (a bulk upload) becomes one sync. */
  SYNC_WEBHOOK_DEBOUNCE_SECONDS: int(0, 3600).default(30),

  SANDBOX_PORT: int(0, 65535).default(4000),
  SANDBOX_HOST: z.string().default('127.0.0.1'),
  /** Create the sandbox's demo accounts with sample activities at start (same as `--seed`). */
  SANDBOX_SEED: bool.default(false),
  /** Sample files for seeding/control (fit/, tcx/, gpx/); default <repo>/../shared/fixtures. */
  SANDBOX_FIXTURES_DIR: z.string().min(1).optional(),

  STRAVA_BASE_URL: url.default('https://www.strava.com'),
  STRAVA_CLIENT_ID: z.string().optional(),
  STRAVA_CLIENT_SECRET: z.string().optional(),
  STRAVA_WEBHOOK_VERIFY_TOKEN: z.string().optional(),
  /** Id of our Strava push subscription; when set, events naming another subscription are refused. */
  STRAVA_WEBHOOK_SUBSCRIPTION_ID: z.string().optional(),

  GARMIN_BASE_URL: url.default('https://connectapi.garmin.com'),
  GARMIN_SSO_URL: url.default('https://sso.garmin.com'),

  DROPBOX_BASE_URL: url.default('https://api.dropboxapi.com'),
  DROPBOX_CONTENT_URL: url.default('https://content.dropboxapi.com'),
  DROPBOX_NOTIFY_URL: url.default('https://notify.dropboxapi.com'),
  DROPBOX_CLIENT_ID: z.string().optional(),
  DROPBOX_CLIENT_SECRET: z.string().optional(),

  /** Root under which local-folder connections may live; unset disables the local folder service. */
  LOCAL_FOLDER_ROOT: z.string().optional(),
});

export type Env = z.infer<typeof envSchema>;

export const CONFIG_PREFIXES = [
  'TRIBUTARY_',
  'DATABASE_',
  'REDIS_',
  'WEB_',
  'SESSION_',
  'WORKER_',
  'SYNC_',
  'SANDBOX_',
  'STRAVA_',
  'GARMIN_',
  'DROPBOX_',
  'LOCAL_FOLDER_',
] as const;

export const SECRET_KEYS = [
  'DATABASE_URL',
  'REDIS_URL',
  'SESSION_SECRET',
  'TRIBUTARY_ENCRYPTION_KEYS',
  'STRAVA_CLIENT_SECRET',
  'STRAVA_WEBHOOK_VERIFY_TOKEN',
  'DROPBOX_CLIENT_SECRET',
] as const satisfies readonly (keyof Env)[];
