import { type ActivityType, nearestSupportedType } from '@tributary/activity';
import { activityKeys } from './merge.util';
import { DEFAULT_RETRY_POLICY, type FailureRecord, type RetryPolicy, failureKey, retryState } from './retry.util';
import { DEFAULT_SOURCE_PRIORITY, sourceRank } from './source-priority.util';
import { type ExclusionRecord, indexExclusions } from './sync-error.model';
import { type ConnectionState, type MergedActivity, type ServiceId, type UserSyncSettings } from './sync.types';

/** Why a connection already has the activity. */
export type PresentReason = 'source' | 'already_synchronized';

/** Why the activity waits for a later time at a connection. */
export type DeferReason = 'upload_delay' | 'retry_backoff';

/** Why the activity is not copied to a connection (shown to the user per activity × service). */
export type SkipReason =
  | 'not_a_destination'
  | 'type_unsupported'
  | 'service_excluded'
  | 'flow'
  | 'config_missing'
  | 'stationary'
  | 'nongps'
  | 'excluded'
  | 'retry_limit'
  | 'tz_unknown'
  | 'live'
  | 'predates_window'
  | 'private'
  | 'no_source';

/**
 * Whether a skip lasts until the user or the activity changes (true) or may clear by itself at a later sync (false).
 * Transient reasons are not persisted as exclusions.
 */
export const SKIP_REASON_PERSISTENT: Readonly<Record<SkipReason, boolean>> = {
  not_a_destination: true,
  type_unsupported: true,
  service_excluded: false,
  flow: true,
  config_missing: true,
  stationary: true,
  nongps: true,
  excluded: true,
  retry_limit: true,
  tz_unknown: false,
  live: false,
  predates_window: true,
  private: true,
  no_source: false,
};

interface DecisionBase {
  connectionId: string;
  service: ServiceId;
}

export type DestinationDecision =
  | (DecisionBase & { kind: 'present'; reason: PresentReason })
  | (DecisionBase & { kind: 'upload'; reason: 'missing'; uploadType: ActivityType })
  | (DecisionBase & { kind: 'deferred'; reason: DeferReason; until: number })
  | (DecisionBase & { kind: 'skipped'; reason: SkipReason; detail?: string });

export interface ActivityPlan {
  activity: MergedActivity;
  /** The key failures and exclusions are recorded under: the primary UID, else the first external id. */
  activityKey: string;
  /** One decision per connection, sorted by connection id. */
  destinations: DestinationDecision[];
  /** Connections to download from, best first; try the next with `nextSource` when one fails. */
  sources: string[];
}

export interface SyncPlan {
  activities: ActivityPlan[];
  /** Activity keys each connection has now seen, to add to its synchronized set (§2.5: recorded as soon as listed). */
  newlySeen: Map<string, string[]>;
  /** The earliest moment a deferred copy becomes possible: schedule the next sync then. */
  nextWakeAt?: number;
}

export interface PlanInput {
  activities: readonly MergedActivity[];
  connections: readonly ConnectionState[];
  settings: UserSyncSettings;
  now: number;
  exclusions?: readonly ExclusionRecord[];
  failures?: readonly FailureRecord[];
  sourcePriority?: readonly ServiceId[];
  retryPolicy?: RetryPolicy;
}

/** Primary key of an activity for failure and exclusion records. */
export function primaryActivityKey(activity: MergedActivity): string {
  if (activity.uid !== undefined) return activity.uid;
  if (activity.externalIds[0] !== undefined) return activity.externalIds[0];
  const first = activity.presence[0];
  return first === undefined ? `start:${activity.start}` : `${first.connectionId}:${first.remoteIds[0] ?? ''}`;
}

/** A flow source → destination the user turned off, from either side's settings. */
export function isFlowBlocked(
  source: ConnectionState | undefined,
  sourceId: string,
  destination: ConnectionState,
): boolean {
  if (destination.settings.receiveFromBlocked?.includes(sourceId) === true) return true;
  return source?.settings.sendToBlocked?.includes(destination.id) === true;
}

/** The next source to try after the given ones failed, or undefined when all have. */
export function nextSource(ranked: readonly string[], failed: Iterable<string>): string | undefined {
  const done = new Set(failed);
  return ranked.find((id) => !done.has(id));
}

class PlanContext {
  readonly byId: Map<string, ConnectionState>;
  readonly exclusions: Map<string, Map<string, ExclusionRecord>>;
  readonly failures: Map<string, FailureRecord>;
  readonly priority: readonly ServiceId[];
  readonly policy: RetryPolicy;

  readonly sortedConnections: ConnectionState[];

  constructor(readonly input: PlanInput) {
    this.sortedConnections = [...input.connections].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.byId = new Map(input.connections.map((c) => [c.id, c]));
    this.exclusions = indexExclusions(input.exclusions ?? []);
    this.failures = new Map(
      (input.failures ?? []).map((f) => [failureKey(f.activityKey, f.connectionId, f.direction), f]),
    );
    this.priority = input.sourcePriority ?? DEFAULT_SOURCE_PRIORITY;
    this.policy = input.retryPolicy ?? DEFAULT_RETRY_POLICY;
  }

  exclusionFor(connectionId: string, keys: readonly string[]): ExclusionRecord | undefined {
    const byKey = this.exclusions.get(connectionId);
    if (byKey === undefined) return undefined;
    for (const k of keys) {
      const x = byKey.get(k);
      if (x !== undefined) return x;
    }
    return undefined;
  }

  /** The failure record with the most counted failures among the activity's keys (its UID may have changed). */
  failureFor(
    connectionId: string,
    keys: readonly string[],
    direction: 'download' | 'upload',
  ): FailureRecord | undefined {
    let best: FailureRecord | undefined;
    for (const k of keys) {
      const f = this.failures.get(failureKey(k, connectionId, direction));
      if (f !== undefined && (best === undefined || f.count > best.count)) best = f;
    }
    return best;
  }
}

interface RankedSources {
  ids: string[];
  /** When every holder is only waiting out a download backoff: the earliest moment one is ready again. */
  earliestRetry?: number;
}

/** Connections that can supply the activity now, best first (service preference, then connection id). */
function rankSources(activity: MergedActivity, ctx: PlanContext, keys: readonly string[]): RankedSources {
  const candidates: { id: string; rank: number }[] = [];
  let earliestRetry: number | undefined;
  for (const p of activity.presence) {
    const c = ctx.byId.get(p.connectionId);
    if (c === undefined || !c.capabilities.supplies || c.excluded !== undefined) continue;
    if (ctx.exclusionFor(c.id, keys) !== undefined) continue;
    const retry = retryState(ctx.failureFor(c.id, keys, 'download'), c.service, ctx.input.now, ctx.policy);
    if (retry.state === 'backoff' && (earliestRetry === undefined || retry.until < earliestRetry)) {
      earliestRetry = retry.until;
    }
    if (retry.state !== 'ready') continue;
    candidates.push({ id: c.id, rank: sourceRank(c.service, ctx.priority) });
  }
  candidates.sort((a, b) => a.rank - b.rank || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const ranked: RankedSources = { ids: candidates.map((c) => c.id) };
  if (earliestRetry !== undefined) ranked.earliestRetry = earliestRetry;
  return ranked;
}

function decide(
  activity: MergedActivity,
  keys: readonly string[],
  dest: ConnectionState,
  sources: RankedSources,
  ctx: PlanContext,
): DestinationDecision {
  const base = { connectionId: dest.id, service: dest.service };
  const { settings, now } = ctx.input;
  const cap = dest.capabilities;
  if (activity.presence.some((p) => p.connectionId === dest.id)) return { ...base, kind: 'present', reason: 'source' };
  if (keys.some((k) => dest.synchronizedUids.has(k)))
    return { ...base, kind: 'present', reason: 'already_synchronized' };
  if (!cap.receives) return { ...base, kind: 'skipped', reason: 'not_a_destination' };
  const uploadType = nearestSupportedType(activity.type, cap.acceptedTypes);
  if (uploadType === undefined) return { ...base, kind: 'skipped', reason: 'type_unsupported', detail: activity.type };
  if (dest.excluded !== undefined) {
    return { ...base, kind: 'skipped', reason: 'service_excluded', detail: dest.excluded.reason };
  }
  // Blocked only when every connection holding the activity is blocked towards this one (tapiriik §2.5).
  if (
    activity.presence.length > 0 &&
    activity.presence.every((p) => isFlowBlocked(ctx.byId.get(p.connectionId), p.connectionId, dest))
  ) {
    return { ...base, kind: 'skipped', reason: 'flow' };
  }
  if (cap.requiresConfiguration && dest.settings.configured !== true) {
    return { ...base, kind: 'skipped', reason: 'config_missing' };
  }
  if (activity.stationary === true && !cap.acceptsStationary) return { ...base, kind: 'skipped', reason: 'stationary' };
  if (activity.stationary !== true && activity.gps === false && !cap.acceptsNonGps) {
    return { ...base, kind: 'skipped', reason: 'nongps' };
  }
  const exclusion = ctx.exclusionFor(dest.id, keys);
  if (exclusion !== undefined) return { ...base, kind: 'skipped', reason: 'excluded', detail: exclusion.reason };
  const retry = retryState(ctx.failureFor(dest.id, keys, 'upload'), dest.service, now, ctx.policy);
  if (retry.state === 'exhausted') return { ...base, kind: 'skipped', reason: 'retry_limit' };
  if (retry.state === 'backoff') return { ...base, kind: 'deferred', reason: 'retry_backoff', until: retry.until };
  if (activity.timezone === undefined) return { ...base, kind: 'skipped', reason: 'tz_unknown' };
  if (!activity.complete) return { ...base, kind: 'skipped', reason: 'live' };
  const readyAt = (activity.end ?? activity.start) + settings.uploadDelayMs;
  if (readyAt > now) return { ...base, kind: 'deferred', reason: 'upload_delay', until: readyAt };
  if (settings.skipBefore !== undefined && activity.start < settings.skipBefore) {
    return { ...base, kind: 'skipped', reason: 'predates_window' };
  }
  if (activity.private && !activity.presence.some((p) => ctx.byId.get(p.connectionId)?.settings.syncPrivate === true)) {
    return { ...base, kind: 'skipped', reason: 'private' };
  }
  if (sources.ids.length === 0) {
    return sources.earliestRetry === undefined
      ? { ...base, kind: 'skipped', reason: 'no_source' }
      : { ...base, kind: 'deferred', reason: 'retry_backoff', until: sources.earliestRetry };
  }
  return { ...base, kind: 'upload', reason: 'missing', uploadType };
}

/** Plans one activity: a decision for every connection and the ranked download sources. */
function planActivity(activity: MergedActivity, ctx: PlanContext): ActivityPlan {
  const keys = activityKeys(activity);
  const sources = rankSources(activity, ctx, keys);
  const destinations = ctx.sortedConnections.map((c) => decide(activity, keys, c, sources, ctx));
  return { activity, activityKey: primaryActivityKey(activity), destinations, sources: sources.ids };
}

/**
 * Decides, for every merged activity and connection, whether it is there, goes there (and from where), waits, or why
 * not. Pure: everything it needs (states, exclusions, failure records, the clock) comes in as data.
 */
export function planSync(input: PlanInput): SyncPlan {
  const ctx = new PlanContext(input);
  const activities = input.activities.map((a) => planActivity(a, ctx));
  const newlySeen = new Map<string, string[]>();
  let nextWakeAt: number | undefined;
  for (const plan of activities) {
    const keys = activityKeys(plan.activity);
    for (const p of plan.activity.presence) {
      const seen = ctx.byId.get(p.connectionId)?.synchronizedUids;
      const fresh = keys.filter((k) => seen?.has(k) !== true);
      if (fresh.length === 0) continue;
      const list = newlySeen.get(p.connectionId);
      if (list === undefined) newlySeen.set(p.connectionId, [...fresh]);
      else list.push(...fresh);
    }
    for (const d of plan.destinations) {
      if (d.kind === 'deferred' && (nextWakeAt === undefined || d.until < nextWakeAt)) nextWakeAt = d.until;
    }
  }
  const plan: SyncPlan = { activities, newlySeen };
  if (nextWakeAt !== undefined) plan.nextWakeAt = nextWakeAt;
  return plan;
}

/** The keys to add to a destination's synchronized set after a successful upload. */
export function keysToRecordAfterUpload(activity: MergedActivity, destination: ConnectionState): string[] {
  return activityKeys(activity).filter((k) => !destination.synchronizedUids.has(k));
}
