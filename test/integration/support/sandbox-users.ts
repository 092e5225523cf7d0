import { randomBytes, randomInt } from 'node:crypto';
import {
  ConnectorRegistry,
  DropboxConnector,
  GarminConnector,
  StravaConnector,
  UnlimitedRateLimiter,
  formatsCodec,
} from '@tributary/connectors';
import { type Repositories } from '@tributary/db';
import { type SandboxHandle, startSandbox } from '../../../apps/sandbox/src';
import { newUser } from './factories';
import { type TestDb } from './test-db';

export const SANDBOX_STRAVA_APP = { clientId: '12345', clientSecret: 'sandbox-strava-secret' };
export const SANDBOX_DROPBOX_APP = { clientId: 'sandbox-dropbox-key', clientSecret: 'sandbox-dropbox-secret' };

export interface SandboxWorld {
  sb: SandboxHandle;
  registry: ConnectorRegistry;
  control<T = unknown>(method: string, route: string, body?: unknown): Promise<T>;
  close(): Promise<void>;
}

/** A sandbox on a random port and connectors pointed at it (no rate limits, short upload polls). */
export async function startSandboxWorld(): Promise<SandboxWorld> {
  const sb = await startSandbox({
    port: 0,
    strava: { uploadProcessingPolls: 0 },
    garmin: { uploadProcessingPolls: 0 },
  });
  const shared = { limiter: new UnlimitedRateLimiter(), codec: formatsCodec };
  const registry = new ConnectorRegistry([
    new StravaConnector({ baseUrl: sb.urls.strava, ...SANDBOX_STRAVA_APP, uploadPollScheduleMs: [10, 20, 40] }, shared),
    new GarminConnector({ baseUrl: sb.urls.garmin, ssoUrl: sb.urls.garminSso, uploadPollScheduleMs: [10, 20] }, shared),
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
  async function control<T = unknown>(method: string, route: string, body?: unknown): Promise<T> {
    const res = await fetch(`${sb.urls.control}${route}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 400) throw new TypeError(`control ${method} ${route}: ${res.status} ${text}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }
  return { sb, registry, control, close: () => sb.close() };
}

export interface SandboxUser {
  userId: string;
  email: string;
  athleteId: string;
  garminUser: string;
  connections: { strava: string; garmin: string };
}

/** A hub user with Strava and Garmin accounts at the sandbox, connected the way the web app stores them. */
export async function newStravaGarminUser(world: SandboxWorld, t: TestDb, repos: Repositories): Promise<SandboxUser> {
  const user = await newUser(t.db);
  const tag = randomBytes(4).toString('hex');
  const strava = await world.control<{ athlete: { id: number }; token: Record<string, string | number> }>(
    'POST',
    '/strava/athletes',
    // A random athlete id: suites running in parallel each start a sandbox, but share the database.
    { id: randomInt(100_000_000, 2_000_000_000), firstname: `u${tag}`, token: {}, timezone: 'Europe/Berlin' },
  );
  const garminUser = `g${tag}@example.com`;
  await world.control('POST', '/garmin/accounts', { username: garminUser, password: 'pw' });
  const garminAccount = await world.registry.get('garmin_connect').authorize!({ username: garminUser, password: 'pw' });
  const s = await repos.connections.connect(user.id, {
    service: 'strava',
    externalUserId: String(strava.athlete.id),
    credentials: {
      accessToken: strava.token.access_token,
      refreshToken: strava.token.refresh_token,
      expiresAt: strava.token.expires_at,
    },
  });
  const g = await repos.connections.connect(user.id, {
    service: 'garmin_connect',
    externalUserId: garminAccount.externalUserId,
    credentials: garminAccount.credentials,
  });
  return {
    userId: user.id,
    email: user.email!,
    athleteId: String(strava.athlete.id),
    garminUser,
    connections: { strava: s.id, garmin: g.id },
  };
}

/** Whole seconds, as the simulators keep them. */
export function sandboxSpec(startMs: number, sport = 'Run') {
  const start = Math.floor(startMs / 1000) * 1000;
  return { start: new Date(start).toISOString(), durationSeconds: 900, sport, intervalSeconds: 15 };
}
