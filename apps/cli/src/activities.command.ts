import { type Command } from 'commander';
import { DateTime } from 'luxon';
import { describeError } from '@tributary/common';
import { connectorContextFor, connectorFor, connectorIdOf } from '@tributary/archive';
import { type ActivityRecordRow, type ConnectionView, type PresenceState } from '@tributary/db';
import { type ListedActivity, mergeListings } from '@tributary/sync';
import { CliIncompleteError, CliUsageError } from './cli.error';
import { type CliContext, type CliIo, type OnlineCliContext, openCli, openOnlineCli } from './cli-context.util';
import { resolveUser } from './cli-users.util';

export type ActivityFilter = 'all' | 'missing' | 'synced';

export interface ActivitiesListOptions {
  json?: boolean;
  all?: boolean;
  missing?: boolean;
  synced?: boolean;
  /** Answer from the hub's database only, without asking any service. */
  offline?: boolean;
  /** Upper bound on listing pages per connection when online. */
  maxPages?: number;
}

/** Where an activity stands at a service, as the list shows it. `unknown`: the hub has no verdict (or listing failed). */
export type ListedState = PresenceState | 'unknown';

export interface ActivityListEntry {
  /** The hub's record id; null for an activity a service lists that the hub has not recorded yet (online only). */
  activity: string | null;
  start: string;
  timezone: string | null;
  type: string;
  name: string | null;
  /** Metres. */
  distance: number | null;
  presence: Record<string, ListedState>;
  /** Services it is missing at (not present, not deliberately excluded). */
  missingAt: string[];
}

export interface ActivitiesListResult {
  userId: string;
  mode: 'offline' | 'online';
  filter: ActivityFilter;
  services: string[];
  activities: ActivityListEntry[];
  /** Online: connections that could not be listed (their column says `unknown`). */
  listingErrors: { service: string; message: string }[];
}

/** Some services could not be listed: the list is printed but incomplete, exit code 1. */
export class ListingIncompleteError extends CliIncompleteError {
  constructor(services: string[]) {
    super('listing_incomplete', `could not list ${services.join(', ')} (see above)`);
  }
}

export function parseFilter(opts: Pick<ActivitiesListOptions, 'all' | 'missing' | 'synced'>): ActivityFilter {
  const chosen = (['all', 'missing', 'synced'] as const).filter((f) => opts[f] === true);
  if (chosen.length > 1) throw new CliUsageError('choose one of --all, --missing, --synced');
  return chosen[0] ?? 'all';
}

function missingAt(presence: Record<string, ListedState>, receivers: ReadonlySet<string>): string[] {
  return Object.entries(presence)
    .filter(([service, state]) => receivers.has(service) && state !== 'present' && state !== 'excluded')
    .map(([service]) => service)
    .sort();
}

function keep(entry: ActivityListEntry, filter: ActivityFilter): boolean {
  if (filter === 'missing') return entry.missingAt.length > 0;
  if (filter === 'synced') return entry.missingAt.length === 0 && !Object.values(entry.presence).includes('unknown');
  return true;
}

async function loadHubState(ctx: CliContext, userId: string) {
  const { db } = ctx.database;
  const records = await db
    .selectFrom('activity_records')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('start_at', 'desc')
    .orderBy('id')
    .execute();
  const presence = await db
    .selectFrom('activity_presence')
    .select(['record_id', 'connection_id', 'state'])
    .where('user_id', '=', userId)
    .execute();
  const connections = await ctx.repos.connections.listForUser(userId);
  const byRecord = new Map<string, Map<string, PresenceState>>();
  for (const p of presence) {
    const m = byRecord.get(p.record_id) ?? new Map<string, PresenceState>();
    m.set(p.connection_id, p.state);
    byRecord.set(p.record_id, m);
  }
  return { records, connections, byRecord };
}

function entryOf(record: ActivityRecordRow, presence: Record<string, ListedState>, receivers: ReadonlySet<string>) {
  return {
    activity: record.id,
    start: new Date(record.start_at).toISOString(),
    timezone: record.timezone,
    type: record.type,
    name: record.name,
    distance: record.distance,
    presence,
    missingAt: missingAt(presence, receivers),
  };
}

/** Offline: what the hub's database says after the last sync. A connection without a verdict is `unknown`. */
async function listOffline(ctx: CliContext, userId: string): Promise<Omit<ActivitiesListResult, 'filter'>> {
  const { records, connections, byRecord } = await loadHubState(ctx, userId);
  // Without the connectors, every connected service counts as a destination.
  const receivers = new Set(connections.map((c) => c.service));
  const activities = records.map((r) => {
    const states = byRecord.get(r.id);
    const presence: Record<string, ListedState> = {};
    for (const c of connections) presence[c.service] = states?.get(c.id) ?? 'unknown';
    return entryOf(r, presence, receivers);
  });
  return {
    userId,
    mode: 'offline',
    services: connections.map((c) => c.service),
    activities,
    listingErrors: [],
  };
}

/**
 * Online (GarminSync-style): every connection is listed live, the listings are merged the way a sync merges them,
 * and each activity shows where it is now and where it is missing. Hub records supply ids and deliberate exclusions.
 */
async function listOnline(
  ctx: OnlineCliContext,
  userId: string,
  maxPages: number,
): Promise<Omit<ActivitiesListResult, 'filter'>> {
  const { records, connections, byRecord } = await loadHubState(ctx, userId);
  const listings: ListedActivity[] = [];
  const listed = new Set<string>();
  const listingErrors: { service: string; message: string }[] = [];
  const receivers = new Set<string>();
  for (const conn of connections) {
    const connector = connectorFor(ctx.registry, conn);
    if (connector?.capabilities.receives === true) receivers.add(conn.service);
    if (connector === undefined || !connector.capabilities.supplies) {
      listingErrors.push({ service: conn.service, message: 'this hub does not run that service' });
      continue;
    }
    try {
      const found = await listConnection(ctx, userId, conn, maxPages);
      listings.push(...found);
      listed.add(conn.id);
    } catch (err) {
      listingErrors.push({ service: conn.service, message: describeError(err) });
    }
  }
  const settings = await ctx.repos.users.getSettings(userId);
  const merged = mergeListings(listings, { userTimezone: settings.timezoneFallback ?? undefined });
  const recordByUid = new Map<string, ActivityRecordRow>();
  for (const r of records) for (const uid of r.uids) recordByUid.set(uid, r);
  const activities: ActivityListEntry[] = merged.map((m) => {
    const record = [...m.uids, ...m.externalIds].map((k) => recordByUid.get(k)).find((r) => r !== undefined);
    const hubStates = record === undefined ? undefined : byRecord.get(record.id);
    const presence: Record<string, ListedState> = {};
    for (const c of connections) {
      if (!listed.has(c.id)) presence[c.service] = 'unknown';
      else if (m.presence.some((p) => p.connectionId === c.id)) presence[c.service] = 'present';
      // Not listed there: a deliberate exclusion (flow, type, stationary…) is not "missing".
      else presence[c.service] = hubStates?.get(c.id) === 'excluded' ? 'excluded' : 'missing';
    }
    return {
      activity: record?.id ?? null,
      start: new Date(m.start).toISOString(),
      timezone: m.timezone ?? record?.timezone ?? null,
      type: m.type,
      name: m.name ?? record?.name ?? null,
      distance: m.distance ?? record?.distance ?? null,
      presence,
      missingAt: missingAt(presence, receivers),
    };
  });
  activities.sort((a, b) => b.start.localeCompare(a.start));
  return { userId, mode: 'online', services: connections.map((c) => c.service), activities, listingErrors };
}

async function listConnection(
  ctx: OnlineCliContext,
  userId: string,
  conn: ConnectionView,
  maxPages: number,
): Promise<ListedActivity[]> {
  const connector = ctx.registry.get(connectorIdOf(conn.service));
  const cctx = await connectorContextFor(ctx.repos.connections, userId, conn, connector);
  const out: ListedActivity[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await connector.listActivities(cctx, {
      exhaustive: true,
      ...(cursor === undefined ? {} : { cursor }),
    });
    for (const summary of page.activities) {
      out.push({ connectionId: conn.id, service: connector.id, summary });
    }
    cursor = page.cursor;
    pages += 1;
  } while (cursor !== undefined && pages < maxPages);
  return out;
}

const STATE_MARK: Record<ListedState, string> = {
  present: 'yes',
  missing: 'MISSING',
  pending: 'pending',
  failed: 'FAILED',
  excluded: 'excluded',
  unknown: '?',
};

export function formatActivities(result: ActivitiesListResult): string {
  const header = ['START', 'TYPE', 'KM', 'NAME', ...result.services, 'ID'];
  const rows = result.activities.map((a) => {
    const zone = a.timezone ?? 'utc';
    let dt = DateTime.fromISO(a.start, { zone });
    if (!dt.isValid) dt = DateTime.fromISO(a.start, { zone: 'utc' });
    return [
      dt.toFormat('yyyy-LL-dd HH:mm'),
      a.type,
      a.distance === null ? '' : (a.distance / 1000).toFixed(1),
      (a.name ?? '').slice(0, 30),
      ...result.services.map((s) => STATE_MARK[a.presence[s] ?? 'unknown']),
      a.activity ?? '(not in hub)',
    ];
  });
  const lines: string[] = [];
  if (rows.length === 0) lines.push(`No ${result.filter === 'all' ? '' : `${result.filter} `}activities.`);
  else {
    const all = [header, ...rows];
    const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
    for (const r of all)
      lines.push(
        r
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      );
  }
  const missing = result.activities.filter((a) => a.missingAt.length > 0).length;
  lines.push(
    `${result.activities.length} activit${result.activities.length === 1 ? 'y' : 'ies'} (${result.mode}` +
      `${result.filter === 'all' ? `, ${missing} missing somewhere` : `, ${result.filter}`}).`,
  );
  for (const e of result.listingErrors) lines.push(`could not list ${e.service}: ${e.message}`);
  return `${lines.join('\n')}\n`;
}

/** `tributary activities list <user> --all|--missing|--synced [--offline]`. */
export async function runActivitiesList(
  ref: string,
  opts: ActivitiesListOptions,
  io: CliIo = {},
): Promise<ActivitiesListResult> {
  const out = io.out ?? process.stdout;
  const filter = parseFilter(opts);
  const online = opts.offline === true ? undefined : await openOnlineCli(io.env);
  const ctx: CliContext = online ?? (await openCli(io.env));
  let result: ActivitiesListResult;
  try {
    const user = await resolveUser(ctx.database.db, ref);
    const listing =
      online === undefined ? await listOffline(ctx, user.id) : await listOnline(online, user.id, opts.maxPages ?? 1000);
    result = { ...listing, filter, activities: listing.activities.filter((a) => keep(a, filter)) };
  } finally {
    await ctx.close();
  }
  out.write(opts.json ? `${JSON.stringify(result)}\n` : formatActivities(result));
  if (result.listingErrors.length > 0 && result.mode === 'online') {
    throw new ListingIncompleteError(result.listingErrors.map((e) => e.service));
  }
  return result;
}

export function registerActivitiesCommand(program: Command): void {
  const activities = program.command('activities').description('A user’s activities and where they are');
  activities
    .command('list')
    .description('List activities with their state at each service (live from the services unless --offline)')
    .argument('<user>', 'user id, email, or service:externalUserId')
    .option('--all', 'every activity (default)')
    .option('--missing', 'only activities missing at some service')
    .option('--synced', 'only activities present everywhere they should be')
    .option('--offline', 'answer from the hub’s database only, without asking the services')
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      await runActivitiesList(ref, cmd.optsWithGlobals<ActivitiesListOptions>());
    });
}
