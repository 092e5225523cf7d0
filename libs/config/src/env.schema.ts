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
  /**
   * Leaflet tile URL template for activity maps (e.g. https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png). Unset:
   * no tiles, the track is drawn on a blank map and the hub contacts no third party. Its origin is added to the map
   * page's CSP img-src.
   */
  WEB_MAP_TILE_URL: z
    .string()
    .regex(
      /^https?:\/\/[^/?#\s]+\/\S*$/,
      'must be an http(s) URL template like https://{s}.tile.example.org/{z}/{x}/{y}.png',
    )
    .optional(),
  /** Attribution shown on the map for the tiles (most tile servers require one). */
  WEB_MAP_TILE_ATTRIBUTION: z.string().max(300).optional(),

  /** `id:base64key` pairs, comma separated; each key is 32 bytes. The first one encrypts, all of them decrypt. */
  TRIBUTARY_ENCRYPTION_KEYS: z.string().min(1).optional(),

  WORKER_ROLES: z.string().default('sync,watchdog,stats,scheduler'),
  /** The worker's probes and /metrics; 3000 like the web app (their own pods); 0 picks a free port. */
  WORKER_HTTP_PORT: int(0, 65535).default(3000),
  /** Defaults to WEB_HOST. */
  WORKER_HTTP_HOST: z.string().min(1).optional(),
  /** When set, /metrics (web and worker) answers only `Authorization: Bearer <token>`. */
  TRIBUTARY_METRICS_TOKEN: z.string().min(16).optional(),
  SYNC_CONCURRENCY: int(1, 256).default(4),
  SYNC_INTERVAL_MINUTES: int(1, 10080).default(60),
  SYNC_NOW_COOLDOWN_SECONDS: int(0, 3600).default(30),
  /** A webhook's sync waits this long so a burst of events (a bulk upload) becomes one sync. */
  SYNC_WEBHOOK_DEBOUNCE_SECONDS: int(0, 3600).default(30),
  /**
   * The watchdog fails a running sync whose heartbeat is older than this (tapiriik: 10 min). Heartbeats, the user's
   * lease and BullMQ's stalled-job detection are derived from it (see syncTiming in @tributary/queue).
   */
  SYNC_HEARTBEAT_STALE_SECONDS: int(15, 86_400).default(600),
  /** The same while the run is listing, where one provider call may legitimately take long (tapiriik: 45 min). */
  SYNC_LISTING_STALE_SECONDS: int(15, 86_400).default(2700),
  /** The stats job deletes samples older than this many days. */
  STATS_RETENTION_DAYS: int(1, 3650).default(30),
  /** How many of the most common open error groups (code × service) the stats job records per service. */
  STATS_TOP_ERROR_GROUPS: int(1, 100).default(10),

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
  /**
   * The app's Strava limits `overall15min,overallDaily,read15min,readDaily` (Strava's defaults for a new app; Strava
   * raises them on request). Shared by every process through Redis.
   */
  STRAVA_RATE_LIMITS: z
    .string()
    .regex(/^\d+,\d+,\d+,\d+$/, 'four comma-separated whole numbers: overall15min,overallDaily,read15min,readDaily')
    .default('200,2000,100,1000'),

  GARMIN_BASE_URL: url.default('https://connectapi.garmin.com'),
  GARMIN_SSO_URL: url.default('https://sso.garmin.com'),
  /**
   * Garmin Connect calls per second for the whole cluster (its unofficial API blocks by IP past roughly this);
   * raise it only behind several egress addresses, or against the sandbox.
   */
  GARMIN_REQUESTS_PER_SECOND: int(1, 10_000).default(1),

  DROPBOX_BASE_URL: url.default('https://api.dropboxapi.com'),
  DROPBOX_CONTENT_URL: url.default('https://content.dropboxapi.com'),
  DROPBOX_NOTIFY_URL: url.default('https://notify.dropboxapi.com'),
  DROPBOX_CLIENT_ID: z.string().optional(),
  DROPBOX_CLIENT_SECRET: z.string().optional(),

  /** Root under which local-folder connections may live; unset disables the local folder service. */
  LOCAL_FOLDER_ROOT: z.string().optional(),

  /** Blocking-error emails go through this SMTP server (smtp://user:pass@host:587, smtps://…:465); unset = no email. */
  SMTP_URL: url.optional(),
  SMTP_FROM: z.string().min(3).default('Tributary <tributary@localhost>'),
  /** Allow plain-http notification webhooks to any host (https is required otherwise, except for localhost). */
  TRIBUTARY_NOTIFY_ALLOW_HTTP_WEBHOOKS: bool.default(false),
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
  'SMTP_',
  'STATS_',
] as const;

export const SECRET_KEYS = [
  'DATABASE_URL',
  'REDIS_URL',
  'SESSION_SECRET',
  'TRIBUTARY_ENCRYPTION_KEYS',
  'STRAVA_CLIENT_SECRET',
  'STRAVA_WEBHOOK_VERIFY_TOKEN',
  'DROPBOX_CLIENT_SECRET',
  'TRIBUTARY_METRICS_TOKEN',
  'SMTP_URL',
] as const satisfies readonly (keyof Env)[];
