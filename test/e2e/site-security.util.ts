import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { type INestApplication } from '@nestjs/common';
import { sql } from 'kysely';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { PermanentError } from '@tributary/common';
import { QueueName } from '@tributary/queue';
import { type SiteHarness, httpServer } from './site-harness.util';

export type Agent = InstanceType<typeof TestAgent>;

/** A fixture recording stored as an activity's original, so its pages and downloads need no provider. */
export const FIXTURE_FIT = path.resolve(__dirname, '../../../shared/fixtures/fit/activity-small-fenix2-run.fit');

/** A signed-in browser session of one hub user. */
export interface SignedIn {
  agent: Agent;
  userId: string;
  csrf: string;
  athleteId: string;
  stravaConnectionId: string;
  displayName: string;
  /** The session cookie's value, for handing the session to a browser. */
  sessionCookie: string;
}

/** Fails a table-driven security case whose route the hub does not serve (yet): a gap, never a silent pass. */
export class RouteMissingError extends PermanentError {
  constructor(route: string, expectedFrom: string) {
    super(
      'route_missing',
      `${route} is not served by the hub, so it cannot be checked (expected from ${expectedFrom})`,
    );
  }
}

export function csrfOf(page: string): string {
  const match = /<meta name="csrf-token" content="([^"]+)"/.exec(page);
  if (match?.[1] === undefined) throw new RouteMissingError('a page with a csrf-token meta tag', 'the site layout');
  return match[1];
}

/** Signs a new user up by connecting a fresh sandbox Strava athlete (the real OAuth flow, state and all). */
export async function signUpWithStrava(h: SiteHarness, firstname: string): Promise<SignedIn> {
  const lastname = 'Security';
  const created = (await h.control('POST', '/strava/athletes', { firstname, lastname })) as { athlete: { id: number } };
  const athleteId = String(created.athlete.id);
  const agent = request.agent(httpServer(h));
  const start = await agent.get('/connect/strava').expect(302);
  const consent = new URL(start.headers.location as string);
  consent.searchParams.set('sandbox_athlete', athleteId);
  const approved = await fetch(consent, { redirect: 'manual' });
  const back = new URL(approved.headers.get('location') ?? '');
  const signedIn = await agent.get(`${back.pathname}${back.search}`).expect(303);
  const setCookie = signedIn.headers['set-cookie'] as unknown;
  const cookie = (Array.isArray(setCookie) ? (setCookie as string[]) : [])
    .map((c) => /^tributary_session=([^;]+)/.exec(c)?.[1])
    .find((v) => v !== undefined);
  if (cookie === undefined) throw new RouteMissingError('a session cookie after connecting', 'the site module');
  const conn = await h.database.db
    .selectFrom('connections')
    .select(['id', 'user_id'])
    .where('service', '=', 'strava')
    .where('external_user_id', '=', athleteId)
    .executeTakeFirstOrThrow();
  const dashboard = await agent.get('/dashboard').expect(200);
  return {
    agent,
    userId: conn.user_id,
    csrf: csrfOf(dashboard.text),
    athleteId,
    stravaConnectionId: conn.id,
    displayName: `${firstname} ${lastname}`,
    sessionCookie: cookie,
  };
}

/** An activity record present on the user's Strava connection, with a stored original file. */
export async function seedActivity(h: SiteHarness, user: SignedIn, name: string): Promise<string> {
  const db = h.database.db;
  const uid = createHash('sha256').update(`${user.userId}:${name}`).digest('hex').slice(0, 32);
  const startAt = new Date(Date.now() - 5 * 86_400_000);
  const record = await db
    .insertInto('activity_records')
    .values({
      user_id: user.userId,
      uid,
      uids: [uid],
      start_at: startAt,
      end_at: new Date(startAt.getTime() + 1_800_000),
      type: 'Running',
      name,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db
    .insertInto('activity_presence')
    .values({
      record_id: record.id,
      connection_id: user.stravaConnectionId,
      user_id: user.userId,
      state: 'present',
      remote_id: '999000111',
    })
    .execute();
  const bytes = readFileSync(FIXTURE_FIT);
  await sql`
    INSERT INTO activity_originals (user_id, activity_record_id, format, bytes, sha256, size, source_connection_id)
    VALUES (${user.userId}, ${record.id}, 'fit', ${bytes}, ${createHash('sha256').update(bytes).digest('hex')},
      ${bytes.length}, ${user.stravaConnectionId})`.execute(db);
  return record.id;
}

export interface RouteEntry {
  method: string;
  path: string;
}

interface ExpressLayer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
}

/** Every route the Nest router registered on Express (controllers only; mounted sub-apps are not listed). */
export function registeredRoutes(app: INestApplication): RouteEntry[] {
  const express = app.getHttpAdapter().getInstance() as { router?: { stack: ExpressLayer[] } };
  const stack = express.router?.stack ?? [];
  const routes: RouteEntry[] = [];
  for (const layer of stack) {
    if (layer.route === undefined) continue;
    const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
    for (const method of Object.keys(layer.route.methods)) {
      if (method === '_all') continue;
      for (const p of paths) routes.push({ method: method.toUpperCase(), path: p });
    }
  }
  return routes;
}

export function routeKey(r: RouteEntry): string {
  return `${r.method} ${r.path}`;
}

/**
 * A digest of everything the hub stores, and of its queues: equal before and after a request means the request
 * changed nothing. Session bookkeeping (last seen, sliding expiry) is left out; who is signed in where is kept.
 */
export async function stateDigest(h: SiteHarness): Promise<Record<string, string>> {
  const db = h.database.db;
  const { rows: tables } = await sql<{ name: string }>`
    SELECT table_name AS name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name NOT LIKE 'kysely_%'
      AND table_name <> 'sessions'
    ORDER BY 1`.execute(db);
  const digest: Record<string, string> = {};
  for (const { name } of tables) {
    const { rows } = await sql<{ d: string | null }>`
      SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) AS d FROM ${sql.table(name)} t`.execute(db);
    digest[name] = rows[0]?.d ?? 'empty';
  }
  const { rows: sessions } = await sql<{ d: string | null }>`
    SELECT md5(string_agg(id || ':' || coalesce(user_id::text, '-') || ':' || csrf_secret, '|' ORDER BY id)) AS d
    FROM sessions`.execute(db);
  digest.sessions = sessions[0]?.d ?? 'empty';
  if (h.jobs !== undefined) {
    for (const name of Object.values(QueueName)) {
      const c = await h.jobs.counts(name);
      digest[`queue:${name}`] = `${c.waiting}/${c.active}/${c.delayed}/${c.failed}`;
    }
  }
  return digest;
}
