import { randomBytes, randomInt } from 'node:crypto';
import { createLogger } from '@tributary/common';
import {
  ConnectorRegistry,
  DropboxConnector,
  GarminConnector,
  StravaConnector,
  UnlimitedRateLimiter,
  formatsCodec,
} from '@tributary/connectors';
import { type Kysely } from 'kysely';
import { type DB, type Repositories } from '@tributary/db';
import { type SandboxHandle, startSandbox } from '../../../apps/sandbox/src';
import { SyncFailuresRepository } from '../../../apps/worker/src/sync/sync-failures.repository';
import { SyncUserService } from '../../../apps/worker/src/sync/sync-user.service';
import { newUser } from './factories';
import { type TestContext, type TestDb } from './test-db';

export const SANDBOX_STRAVA_APP = { clientId: '12345', clientSecret: 'sandbox-strava-secret' };
export const SANDBOX_DROPBOX_APP = { clientId: 'sandbox-dropbox-key', clientSecret: 'sandbox-dropbox-secret' };

/** Calls the sandbox's control API (seeding accounts and activities, faults, the request log). */
export type SandboxControl = <T = unknown>(method: string, route: string, body?: unknown) => Promise<T>;

export interface SandboxWorld {
  sb: SandboxHandle;
  registry: ConnectorRegistry;
  control: SandboxControl;
  close(): Promise<void>;
}

export function sandboxControl(sb: SandboxHandle): SandboxControl {
  return async <T = unknown>(method: string, route: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${sb.urls.control}${route}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 400) throw new TypeError(`control ${method} ${route}: ${res.status} ${text}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  };
}

export interface SandboxRegistryOptions {
  stravaUploadPollScheduleMs?: number[];
  garminUploadPollScheduleMs?: number[];
}

/** Strava, Garmin and Dropbox connectors pointed at the sandbox, without rate limits. */
export function sandboxRegistry(sb: SandboxHandle, opts: SandboxRegistryOptions = {}): ConnectorRegistry {
  const shared = { limiter: new UnlimitedRateLimiter(), codec: formatsCodec };
  return new ConnectorRegistry([
    new StravaConnector(
      {
        baseUrl: sb.urls.strava,
        ...SANDBOX_STRAVA_APP,
        uploadPollScheduleMs: opts.stravaUploadPollScheduleMs ?? [10, 20, 40],
      },
      shared,
    ),
    new GarminConnector(
      {
        baseUrl: sb.urls.garmin,
        ssoUrl: sb.urls.garminSso,
        uploadPollScheduleMs: opts.garminUploadPollScheduleMs ?? [10, 20],
      },
      shared,
    ),
    new DropboxConnector(
      {
        apiUrl: sb.urls.dropboxApi,
        contentUrl: sb.urls.dropboxContent,
        notifyUrl: sb.urls.dropboxNotify,
        ...SANDBOX_DROPBOX_APP,
      },
      shared,
    ),
  ]);
}

/** A sandbox on a random port and connectors pointed at it (no rate limits, short upload polls). */
export async function startSandboxWorld(opts: SandboxRegistryOptions = {}): Promise<SandboxWorld> {
  const sb = await startSandbox({
    port: 0,
    strava: { uploadProcessingPolls: 0 },
    garmin: { uploadProcessingPolls: 0 },
  });
  return { sb, registry: sandboxRegistry(sb, opts), control: sandboxControl(sb), close: () => sb.close() };
}

export type SandboxService = 'strava' | 'garmin' | 'dropbox';

export interface SandboxAccountsOptions<S extends SandboxService> {
  /** The services to open sandbox accounts at and connect; all three by default. */
  services?: readonly S[];
  /** The Strava athlete's timezone. */
  timezone?: string;
  dropboxFolder?: string;
}

export interface SandboxAccounts<S extends SandboxService = SandboxService> {
  userId: string;
  email: string;
  /** Empty when Strava was not requested (likewise garminUser and dropboxAccount). */
  athleteId: string;
  garminUser: string;
  dropboxAccount: string;
  connections: Record<S, string>;
}

/**
 * A new hub user with accounts at the requested sandbox services, connected the way the web app stores them. The
 * registry is only used to sign in to Garmin.
 */
export async function newSandboxAccounts<S extends SandboxService = SandboxService>(
  world: { control: SandboxControl; registry?: ConnectorRegistry },
  db: Kysely<DB>,
  repos: Repositories,
  opts: SandboxAccountsOptions<S> = {},
): Promise<SandboxAccounts<S>> {
  const services: readonly SandboxService[] = opts.services ?? ['strava', 'garmin', 'dropbox'];
  const user = await newUser(db);
  const tag = randomBytes(4).toString('hex');
  const connections: Partial<Record<SandboxService, string>> = {};
  let athleteId = '';
  let garminUser = '';
  let dropboxAccount = '';
  if (services.includes('strava')) {
    const strava = await world.control<{ athlete: { id: number }; token: Record<string, string | number> }>(
      'POST',
      '/strava/athletes',
      // A random athlete id: suites running in parallel each start a sandbox, but share the database.
      {
        id: randomInt(100_000_000, 2_000_000_000),
        firstname: `u${tag}`,
        token: {},
        ...(opts.timezone === undefined ? {} : { timezone: opts.timezone }),
      },
    );
    athleteId = String(strava.athlete.id);
    const s = await repos.connections.connect(user.id, {
      service: 'strava',
      externalUserId: athleteId,
      credentials: {
        accessToken: strava.token.access_token,
        refreshToken: strava.token.refresh_token,
        expiresAt: strava.token.expires_at,
      },
    });
    connections.strava = s.id;
  }
  if (services.includes('garmin')) {
    garminUser = `g${tag}@example.com`;
    await world.control('POST', '/garmin/accounts', { username: garminUser, password: 'pw' });
    if (world.registry === undefined)
      throw new TypeError('signing in to the Garmin sandbox needs a connector registry');
    const garminAccount = await world.registry.get('garmin_connect').authorize!({
      username: garminUser,
      password: 'pw',
    });
    const g = await repos.connections.connect(user.id, {
      service: 'garmin_connect',
      externalUserId: garminAccount.externalUserId,
      credentials: garminAccount.credentials,
    });
    connections.garmin = g.id;
  }
  if (services.includes('dropbox')) {
    const dropbox = await world.control<{ accountId: string; token: Record<string, string | number> }>(
      'POST',
      '/dropbox/accounts',
      { token: { offline: true } },
    );
    dropboxAccount = dropbox.accountId;
    const d = await repos.connections.connect(user.id, {
      service: 'dropbox',
      externalUserId: dropbox.accountId,
      credentials: {
        accessToken: dropbox.token.access_token,
        refreshToken: dropbox.token.refresh_token,
        expiresAt: dropbox.token.expires_at,
      },
      config: { folder: opts.dropboxFolder ?? '/Tributary' },
    });
    connections.dropbox = d.id;
  }
  return {
    userId: user.id,
    email: user.email!,
    athleteId,
    garminUser,
    dropboxAccount,
    connections: connections as Record<S, string>,
  };
}

export type SandboxUser = SandboxAccounts<'strava' | 'garmin'>;

/** A hub user with Strava and Garmin accounts at the sandbox, connected the way the web app stores them. */
export function newStravaGarminUser(world: SandboxWorld, t: TestDb, repos: Repositories): Promise<SandboxUser> {
  return newSandboxAccounts(world, t.db, repos, { services: ['strava', 'garmin'], timezone: 'Europe/Berlin' });
}

/** A run at Strava starting at `startMs`, and a public ride at Garmin `rideAfterMs` later. */
export async function seedRunAndRide(world: SandboxWorld, u: SandboxUser, startMs: number, rideAfterMs: number) {
  await world.control('POST', '/strava/activities', { athlete: u.athleteId, spec: sandboxSpec(startMs) });
  await world.control('POST', '/garmin/activities', {
    username: u.garminUser,
    spec: sandboxSpec(startMs + rideAfterMs, 'Ride'),
    privacy: 'public',
  });
}

/** The worker's sync of one user, against the world's connectors. */
export function sandboxSyncService(
  world: SandboxWorld,
  t: TestContext,
  overrides: Partial<Repositories> = {},
): SyncUserService {
  return new SyncUserService({
    repos: { ...t.repos, ...overrides },
    failures: new SyncFailuresRepository(t.db),
    connectors: world.registry,
    logger: createLogger({ level: 'silent' }),
  });
}

/** What the user's sandbox accounts hold: activity start times at Strava and Garmin, activity file paths at Dropbox. */
export async function sandboxHoldings(
  control: SandboxControl,
  u: Pick<SandboxAccounts, 'athleteId' | 'garminUser' | 'dropboxAccount'>,
): Promise<{ strava: number[]; garmin: number[]; dropbox: string[] }> {
  const strava = await control<{ start_date: string }[]>('GET', `/strava/activities?athlete=${u.athleteId}`);
  const garmin = await control<{ startTimeGMT: string }[]>(
    'GET',
    `/garmin/activities?username=${encodeURIComponent(u.garminUser)}`,
  );
  const files = await control<{ path_display?: string; path?: string }[]>(
    'GET',
    `/dropbox/files?account=${encodeURIComponent(u.dropboxAccount)}`,
  );
  const toMs = (s: string) => Date.parse(s.endsWith('Z') || s.includes('+') ? s : `${s.replace(' ', 'T')}Z`);
  return {
    strava: strava.map((a) => toMs(a.start_date)).sort(),
    garmin: garmin.map((a) => toMs(a.startTimeGMT)).sort(),
    dropbox: files
      .map((f) => f.path_display ?? f.path ?? '')
      .filter((p) => /\.(fit|tcx|gpx)$/i.test(p))
      .sort(),
  };
}

/** Whole seconds, as the simulators keep them. */
export function sandboxSpec(startMs: number, sport = 'Run') {
  const start = Math.floor(startMs / 1000) * 1000;
  return { start: new Date(start).toISOString(), durationSeconds: 900, sport, intervalSeconds: 15 };
}
