import { type Activity, checkSanity, cleanStats, withInferredFlags } from '@tributary/activity';
import { type Logger, NotFoundError, RetryableError, describeError } from '@tributary/common';
import { storeDownloadedOriginal } from '@tributary/archive';
import { type ConnectorContext, type JsonObject, type ServiceConnector } from '@tributary/connectors';
import {
  type ConnectionView,
  type PresenceInput,
  type SyncRunCounts,
  type SyncRunErrorEntry,
  type SyncRunRow,
  type SyncTrigger as RunTrigger,
  type UserSettings,
} from '@tributary/db';
import { type SyncTrigger, nextSyncAt } from '@tributary/queue';
import {
  type ActivityPlan,
  type ConnectionExclusionReason,
  type ConnectionState,
  DEFAULT_RETRY_POLICY,
  type DestinationDecision,
  type ExclusionRecord,
  type FailureRecord,
  type ListedActivity,
  type SyncPlan,
  type GeoPoint,
  firstLocatedSample,
  type MergedActivity,
  type SyncStep,
  USER_EXCEPTION_RULES,
  activityKeys,
  failureKey,
  keysToRecordAfterUpload,
  maxAttemptsFor,
  mergeListings,
  mostCommonTimezone,
  nextSource,
  planSync,
  recordFailure,
  retryLimitError,
  zoneActivity,
} from '@tributary/sync';
import { type ClassifiedFailure, classifyFailure, duplicateRemoteId } from './sync-failure.util';
import { RATE_LIMITED_REASON } from './sync-failures.repository';
import {
  type SyncUserDependencies,
  type SyncUserOptions,
  type SyncUserRequest,
  type SyncUserResult,
  type SyncUserStatus,
} from './sync-user.types';

export const DEFAULT_SYNC_USER_OPTIONS: SyncUserOptions = {
  heartbeatIntervalMs: 10_000,
  partialListingMarginMs: 7 * 86_400_000,
  syncIntervalMs: 3_600_000,
  retryPolicy: DEFAULT_RETRY_POLICY,
  maxListingPages: 10_000,
  untriggeredListingMaxAgeMs: 24 * 3_600_000,
};

/** Run rows keep the most recent errors only; the full history is in sync_errors. */
const MAX_RUN_ERRORS = 50;

/** The worker lost its lease on the user mid-sync; another worker may be syncing, so this one stops. */
export class SyncLeaseLostError extends RetryableError {
  constructor(userId: string) {
    super('sync_lease_lost', `lost the sync lease of user ${userId}`, { details: { userId } });
  }
}

/**
 * Connection rows store the canonical connector id (`garmin_connect`). Rows written before the service CHECK allowed
 * underscores may still say `garmin-connect`; both spellings resolve to the connector.
 */
export function connectorIdOf(service: string): string {
  return service.replace(/-/g, '_');
}

/**
 * A copy the hub uploaded takes the destination's default privacy (Garmin uploads are private), which is not the
 * user's choice: only the copies the user recorded decide whether the activity is private.
 */
export function withoutOwnCopiesPrivacy(
  activity: MergedActivity,
  uploadedKeys: ReadonlyMap<string, ReadonlySet<string>>,
): MergedActivity {
  if (!activity.private) return activity;
  const recorded = activity.sources.filter((s) => !isOwnCopy(activity, s.connectionId, uploadedKeys));
  if (recorded.length === 0 || recorded.length === activity.sources.length) return activity;
  return { ...activity, private: recorded.some((s) => s.summary.private === true) };
}

function isOwnCopy(
  activity: MergedActivity,
  connectionId: string,
  uploadedKeys: ReadonlyMap<string, ReadonlySet<string>>,
): boolean {
  const keys = uploadedKeys.get(connectionId);
  return keys !== undefined && activityKeys(activity).some((k) => keys.has(k));
}

function listingKey(listing: Pick<ListedActivity, 'connectionId' | 'summary'>): string {
  return `${listing.connectionId}\u0000${listing.summary.remoteId}`;
}

/** Where a listing was recorded (its zone follows), or the zone its file implied. */
type ListingZone = { position: GeoPoint } | { zone: string };

/** The listing with what its download revealed, when the service itself did not state a zone. */
function withZone(listing: ListedActivity, zones: ReadonlyMap<string, ListingZone>): ListedActivity {
  const found = zones.get(listingKey(listing));
  if (found === undefined || listing.summary.timezone !== undefined) return listing;
  if ('position' in found) return { ...listing, startPosition: found.position };
  return { ...listing, summary: { ...listing.summary, timezone: found.zone } };
}

const RUN_TRIGGER: Readonly<Record<SyncTrigger, RunTrigger>> = {
  scheduled: 'schedule',
  manual: 'manual',
  webhook: 'webhook',
  poll: 'webhook',
  connected: 'connect',
};

interface LiveConnection {
  row: ConnectionView;
  connector: ServiceConnector;
  ctx: ConnectorContext;
  state: ConnectionState;
  /** Dropbox-style cursor to persist once everything listed was processed. */
  checkpoint?: JsonObject;
  listed: boolean;
  /** Not listed in this partial sync: nothing triggered it (its UID ledger still guards it as a destination). */
  listingDeferred: boolean;
  exhaustive: boolean;
}

type Downloaded = { activity: Activity; sourceId: string } | { failure: string };

/** Mutable state of one sync of one user. */
class RunState {
  readonly counts: Record<string, number> = {};
  readonly errors: SyncRunErrorEntry[] = [];
  phase = 'starting';
  progress = 0;
  failures = 0;
  deferred = 0;
  leaseLost = false;
  /** Records must be stamped seen: an exhaustive sync deletes those it did not see (see ActivityRecordRepository). */
  markSeen = false;
  /** Downloads by listing, so an activity fetched to find its zone is not fetched again for its upload. */
  readonly downloads = new Map<string, Activity>();
  readonly failedDownloads = new Map<string, string>();

  bump(key: string, by = 1): void {
    this.counts[key] = (this.counts[key] ?? 0) + by;
  }

  addError(entry: SyncRunErrorEntry): void {
    if (this.errors.length < MAX_RUN_ERRORS) this.errors.push(entry);
  }
}

/**
 * One user's sync (tapiriik's SynchronizationTask.Run, §2.3–2.9): list every connection, merge and plan with
 * @tributary/sync, then download each missing activity from its best source and upload it to each destination.
 * Every step is idempotent: the upload ledger and the synchronized-UID sets make a re-run after a crash at any point
 * skip what was already done, and destinations' duplicate detection covers an upload whose completion was lost.
 * The caller holds the user's lease; this service does not take it.
 */
export class SyncUserService {
  private readonly options: SyncUserOptions;
  private readonly now: () => number;
  private readonly logger: Logger;

  constructor(private readonly deps: SyncUserDependencies) {
    this.options = { ...DEFAULT_SYNC_USER_OPTIONS, ...deps.options };
    this.now = deps.now ?? Date.now;
    this.logger = deps.logger.child({ component: 'sync-user' });
  }

  async run(request: SyncUserRequest): Promise<SyncUserResult> {
    const { repos } = this.deps;
    const user = await repos.users.findById(request.userId);
    if (user === undefined) return { status: 'skipped', counts: {}, errors: [] };
    const run = await this.startRun(request);
    const state = new RunState();
    const log = this.logger.child({ userId: request.userId, runId: run.id });
    const beat = async (): Promise<void> => {
      try {
        await repos.syncRuns.heartbeat(request.userId, run.id, {
          progress: state.progress,
          phase: state.phase,
          counts: state.counts,
        });
        if (request.keepAlive !== undefined && !(await request.keepAlive())) state.leaseLost = true;
      } catch (err) {
        log.warn({ err }, 'sync heartbeat failed');
      }
    };
    const timer = setInterval(() => void beat(), this.options.heartbeatIntervalMs);
    timer.unref();
    const startedAt = performance.now();
    const observe = (status: string): void =>
      this.deps.metrics?.syncFinished({ trigger: request.trigger, status, durationMs: performance.now() - startedAt });
    try {
      const result = await this.sync(request, run, state, beat, log, user.next_sync_exhaustive);
      observe(result.status);
      return result;
    } catch (err) {
      observe('error');
      state.addError({ code: 'sync_failed', message: describeError(err).slice(0, 1000) });
      await repos.syncRuns
        .finish(request.userId, run.id, { status: 'failed', counts: state.counts, errors: state.errors })
        .catch((finishErr: unknown) => log.error({ err: finishErr }, 'could not mark the sync run failed'));
      throw err;
    } finally {
      clearInterval(timer);
    }
  }

  /**
   * Takes the user's queued run (the web app may have queued one for "Sync now") or queues one. A run still
   * `running` can only be left over by a crashed worker, since the caller holds the lease: it is closed as failed.
   */
  private async startRun(request: SyncUserRequest): Promise<SyncRunRow> {
    const { syncRuns } = this.deps.repos;
    const opts = { trigger: RUN_TRIGGER[request.trigger], exhaustive: request.exhaustive === true };
    let { run } = await syncRuns.enqueue(request.userId, opts);
    if (run.status === 'running') {
      await syncRuns.finish(request.userId, run.id, {
        status: 'failed',
        errors: [{ code: 'interrupted', message: `the worker ${run.worker_id ?? '?'} stopped during this sync` }],
      });
      ({ run } = await syncRuns.enqueue(request.userId, opts));
    }
    const started = await syncRuns.start(request.userId, run.id, request.workerId);
    if (started === null) throw new NotFoundError('queued sync run', run.id);
    return started;
  }

  private async sync(
    request: SyncUserRequest,
    run: SyncRunRow,
    state: RunState,
    beat: () => Promise<void>,
    log: Logger,
    userWantsExhaustive: boolean,
  ): Promise<SyncUserResult> {
    const { repos } = this.deps;
    const { userId } = request;
    const startedAt = this.now();
    const phase = async (name: string, progress: number): Promise<void> => {
      state.phase = name;
      state.progress = progress;
      await beat();
    };

    // §2.3 step 3: what was about the previous sync only is re-evaluated.
    await repos.syncErrors.clearNonBlocking(userId);
    await repos.exclusions.removeNonPermanent(userId);
    const openErrors = await repos.syncErrors.listOpen(userId);
    if (openErrors.some((e) => e.blocking && e.scope === 'account')) {
      state.addError({ code: 'account_blocked', message: 'a blocking account error waits for the user' });
      return this.finish(request, run, state, 'failed', log);
    }
    const forcing = await repos.syncErrors.countForcingExhaustive(userId);
    const exhaustive = request.exhaustive === true || userWantsExhaustive || forcing > 0;
    state.markSeen = exhaustive;
    const settings = await repos.users.getSettings(userId);
    const flows = await repos.exclusions.listFlowExceptions(userId);
    const blocked = new Set(
      openErrors
        .filter((e) => e.blocking && e.scope === 'connection' && e.connection_id !== null)
        .map((e) => e.connection_id!),
    );

    const connections: LiveConnection[] = [];
    for (const row of await repos.connections.listForUser(userId)) {
      connections.push(await this.prepareConnection(userId, row, flows, blocked, exhaustive));
    }
    const usable = connections.filter((c) => c.state.excluded === undefined);
    if (usable.length < 2) {
      // Nothing can flow anywhere with fewer than two working connections (tapiriik bails out the same way).
      state.bump('connections_usable', usable.length);
      return this.finish(request, run, state, 'succeeded', log, { startedAt, connections, settings });
    }

    // Listing (§2.4).
    const listings: ListedActivity[] = [];
    // "Sync now" and a new connection list everything; so does a retry or an upload delay that came due.
    const mayDefer =
      (request.trigger === 'scheduled' || request.trigger === 'webhook' || request.trigger === 'poll') &&
      !(await this.deps.failures.hasDueWork(userId, new Date(this.now())));
    for (const conn of usable) {
      if (mayDefer && this.listingWaitsForTrigger(conn)) {
        conn.listingDeferred = true;
        state.bump('listing_deferred');
      }
    }
    for (const [i, conn] of usable.filter((c) => !c.listingDeferred).entries()) {
      await phase(`listing ${conn.row.service}`, (0.3 * i) / usable.length);
      listings.push(...(await this.listConnection(userId, conn, state, log)));
    }
    const listedCount = connections.filter((c) => c.listed || c.listingDeferred).length;
    if (listedCount < 2) {
      return this.finish(request, run, state, listedCount === 0 ? 'failed' : 'partial', log, {
        startedAt,
        connections,
        settings,
      });
    }

    // Merge and plan (§2.4–2.6).
    await phase('planning', 0.3);
    await this.applyKnownZones(userId, listings, state);
    const ours = await this.deps.failures.listUploadedKeys(userId);
    const exclusions = (await repos.exclusions.listActiveForUser(userId)).map((x): ExclusionRecord => ({
      connectionId: x.connection_id,
      activityKey: x.key,
      reason: x.reason as ExclusionRecord['reason'],
      permanent: x.permanent,
      at: new Date(x.effective_at).getTime(),
    }));
    const failures = await this.deps.failures.listUploadFailures(userId);
    const mergeAndPlan = async (from: readonly ListedActivity[]) => {
      const merged = mergeListings(from, { userTimezone: settings.timezoneFallback ?? undefined }).map((a) =>
        withoutOwnCopiesPrivacy(a, ours),
      );
      const allKeys = [...new Set(merged.flatMap((a) => activityKeys(a)))];
      for (const conn of connections) {
        const known = await repos.ledger.knownUids(userId, conn.row.id, allKeys);
        conn.state = { ...conn.state, synchronizedUids: known };
      }
      const plan = planSync({
        activities: merged,
        connections: connections.map((c) => c.state),
        settings: {
          uploadDelayMs: settings.uploadDelaySeconds * 1000,
          ...(settings.skipBefore === null ? {} : { skipBefore: Date.parse(settings.skipBefore) }),
          ...(settings.timezoneFallback === null ? {} : { timezone: settings.timezoneFallback }),
        },
        now: this.now(),
        exclusions,
        failures,
        retryPolicy: this.options.retryPolicy,
      });
      return { merged, plan };
    };
    const byId = new Map(connections.map((c) => [c.row.id, c]));
    const fallbacks = {
      userCommon: undefined as string | undefined,
      userSetting: settings.timezoneFallback ?? undefined,
    };
    let { merged, plan } = await mergeAndPlan(listings);
    fallbacks.userCommon = mostCommonTimezone(merged.map((a) => a.timezone));
    const zoned = await this.discoverTimezones(userId, plan, byId, state, fallbacks);
    if (zoned.size > 0) ({ merged, plan } = await mergeAndPlan(listings.map((l) => withZone(l, zoned))));
    state.bump('listed', listings.length);
    state.bump('merged', merged.length);
    // §2.5: what a connection listed is recorded at once, so it is never sent there even if nothing uploads.
    for (const [connectionId, keys] of plan.newlySeen) {
      await repos.ledger.addSynchronizedUids(userId, connectionId, keys);
    }

    // Transfer (§2.7–2.8).
    const failureIndex = new Map(failures.map((f) => [failureKey(f.activityKey, f.connectionId, f.direction), f]));
    const userCommon = fallbacks.userCommon;
    for (const [i, activityPlan] of plan.activities.entries()) {
      if (state.leaseLost) throw new SyncLeaseLostError(userId);
      state.phase = `processing ${i + 1}/${plan.activities.length}`;
      state.progress = 0.3 + (0.7 * i) / plan.activities.length;
      await this.processActivity(userId, activityPlan, byId, failureIndex, ours, state, {
        userCommon,
        userSetting: settings.timezoneFallback ?? undefined,
      });
    }

    const anyListingFailed = connections.some((c) => !c.listed && c.state.excluded?.reason === 'listing_failed');
    const status: SyncUserStatus = state.failures > 0 || anyListingFailed ? 'partial' : 'succeeded';
    return this.finish(request, run, state, status, log, {
      startedAt,
      connections,
      settings,
      nextWakeAt: plan.nextWakeAt,
      exhaustive,
    });
  }

  private async prepareConnection(
    userId: string,
    row: ConnectionView,
    flows: readonly { source_connection_id: string; target_connection_id: string }[],
    blocked: ReadonlySet<string>,
    exhaustive: boolean,
  ): Promise<LiveConnection> {
    const { repos, connectors } = this.deps;
    let excluded: { reason: ConnectionExclusionReason; message?: string } | undefined;
    let connector: ServiceConnector | undefined;
    const connectorId = connectorIdOf(row.service);
    if (!connectors.has(connectorId)) excluded = { reason: 'service_disabled', message: `unknown ${row.service}` };
    else connector = connectors.get(connectorId);
    if (excluded === undefined && (row.status === 'disabled' || row.status === 'needs_reauth' || blocked.has(row.id))) {
      excluded = { reason: 'blocking_error', message: `connection status ${row.status}` };
    }
    let credentials: JsonObject = {};
    if (excluded === undefined && connector !== undefined && connector.auth.kind !== 'path') {
      const stored = await repos.connections.readCredentials(userId, row.id);
      if (stored === null || typeof stored !== 'object') excluded = { reason: 'credentials_missing' };
      else credentials = stored as JsonObject;
    }
    const ctx: ConnectorContext = {
      connectionId: row.id,
      externalUserId: row.external_user_id,
      credentials,
      config: row.config,
      saveCredentials: async (next) => {
        // Persisted before the connector goes on: a rotated refresh token must never be lost (the old one is dead).
        await repos.connections.writeCredentials(userId, row.id, next);
        ctx.credentials = next;
      },
    };
    const caps = connector?.capabilities;
    const state: ConnectionState = {
      id: row.id,
      service: connector?.id ?? row.service,
      capabilities: {
        receives: caps?.receives ?? false,
        supplies: caps?.supplies ?? false,
        acceptedTypes: caps?.acceptedTypes ?? new Set(),
        acceptsStationary: caps?.acceptsStationary ?? false,
        acceptsNonGps: caps?.acceptsNonGps ?? false,
        requiresConfiguration: false,
      },
      settings: {
        syncPrivate: row.config.syncPrivate === true,
        receiveFromBlocked: flows.filter((f) => f.target_connection_id === row.id).map((f) => f.source_connection_id),
      },
      synchronizedUids: new Set(),
    };
    if (excluded !== undefined) state.excluded = excluded;
    return {
      row,
      // An excluded connection never reaches a connector call, so a missing connector is never dereferenced.
      connector: connector as ServiceConnector,
      ctx,
      state,
      listed: false,
      listingDeferred: false,
      exhaustive: exhaustive || row.last_listed_at === null,
    };
  }

  private listingWaitsForTrigger(conn: LiveConnection): boolean {
    if (conn.exhaustive || conn.row.trigger_partial_sync || conn.row.last_listed_at === null) return false;
    if (conn.connector.capabilities.partialSyncTrigger !== 'webhook') return false;
    const age = this.now() - new Date(conn.row.last_listed_at).getTime();
    return age < this.options.untriggeredListingMaxAgeMs;
  }

  private async listConnection(
    userId: string,
    conn: LiveConnection,
    state: RunState,
    log: Logger,
  ): Promise<ListedActivity[]> {
    const out: ListedActivity[] = [];
    const lastListed = conn.row.last_listed_at === null ? undefined : new Date(conn.row.last_listed_at).getTime();
    const after =
      conn.exhaustive || lastListed === undefined ? undefined : lastListed - this.options.partialListingMarginMs;
    try {
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await conn.connector.listActivities(conn.ctx, {
          exhaustive: conn.exhaustive,
          ...(after === undefined ? {} : { after }),
          ...(cursor === undefined ? {} : { cursor }),
        });
        for (const summary of page.activities) {
          out.push({ connectionId: conn.row.id, service: conn.state.service, summary });
        }
        for (const x of page.exclusions) {
          await this.deps.repos.exclusions.upsert(userId, conn.row.id, {
            key: x.remoteId,
            permanent: x.permanent,
            reason: x.reason,
            message: x.message,
          });
          state.bump(`excluded_${x.reason}`);
        }
        if (page.checkpoint !== undefined) conn.checkpoint = page.checkpoint;
        cursor = page.cursor;
        pages += 1;
      } while (cursor !== undefined && pages < this.options.maxListingPages);
      conn.listed = true;
      return out;
    } catch (err) {
      const failure = classifyFailure(err, 'list');
      log.warn({ err, connectionId: conn.row.id, service: conn.row.service }, 'listing failed; connection excluded');
      await this.excludeConnection(userId, conn, failure, 'list', state);
      conn.state = { ...conn.state, excluded: { reason: 'listing_failed', message: failure.message } };
      return [];
    }
  }

  /** A connection-level failure: the connection sits out the rest of this sync, blocked until the user acts. */
  private async excludeConnection(
    userId: string,
    conn: LiveConnection,
    failure: ClassifiedFailure,
    step: SyncStep,
    state: RunState,
  ): Promise<void> {
    const { repos } = this.deps;
    state.failures += 1;
    state.addError({ code: failure.type, message: failure.message, connectionId: conn.row.id });
    const reason: ConnectionExclusionReason = failure.type === 'ratelimited' ? 'rate_limited' : 'listing_failed';
    conn.state = { ...conn.state, excluded: { reason, message: failure.message } };
    const intervention = failure.connectionLevel && failure.blocking ? this.interventionOf(failure) : null;
    await repos.syncErrors.record(userId, {
      connectionId: conn.row.id,
      scope: 'connection',
      step,
      code: failure.type,
      clearGroup: intervention,
      message: failure.message,
      blocking: failure.connectionLevel && failure.blocking,
      intervention,
      triggerExhaustive: failure.connectionLevel && failure.blocking,
    });
    if (intervention === 'reauth') await repos.connections.setStatus(userId, conn.row.id, 'needs_reauth');
  }

  private interventionOf(failure: ClassifiedFailure): string | null {
    return USER_EXCEPTION_RULES[failure.type].intervention ?? null;
  }

  /** Zones settled by an earlier sync go on this sync's zoneless listings of the same copies (in place). */
  private async applyKnownZones(userId: string, listings: ListedActivity[], state: RunState): Promise<void> {
    const zoneless = listings.filter((l) => l.summary.timezone === undefined && l.startPosition === undefined);
    if (zoneless.length === 0) return;
    const known = await this.deps.repos.activities.knownZones(
      userId,
      zoneless.map((l) => ({ connectionId: l.connectionId, remoteId: l.summary.remoteId })),
    );
    if (known.size === 0) return;
    listings.forEach((l, i) => {
      const zone = known.get(`${l.connectionId} ${l.summary.remoteId}`);
      if (zone === undefined || l.summary.timezone !== undefined || l.startPosition !== undefined) return;
      listings[i] = { ...l, summary: { ...l.summary, timezone: zone } };
      state.bump('timezones_remembered');
    });
  }

  /**
   * Listings without a zone (Garmin's UTC times, files) and no user fallback would leave the activity `tz_unknown`
   * forever, although the file knows where it was recorded. Those activities are downloaded now (the copy is reused
   * for the upload) and zoned from their samples; the zone then goes on their listings and the plan is redone.
   */
  private async discoverTimezones(
    userId: string,
    plan: SyncPlan,
    byId: ReadonlyMap<string, LiveConnection>,
    state: RunState,
    fallbacks: { userCommon?: string; userSetting?: string },
  ): Promise<Map<string, ListingZone>> {
    const zones = new Map<string, ListingZone>();
    for (const p of plan.activities) {
      if (!p.destinations.some((d) => d.kind === 'skipped' && d.reason === 'tz_unknown')) continue;
      const downloaded = await this.download(userId, p, byId, state);
      if ('failure' in downloaded) continue;
      const position = firstLocatedSample(downloaded.activity.samples);
      const zoned = position === undefined ? zoneActivity(downloaded.activity, fallbacks) : undefined;
      const found: ListingZone | undefined =
        position !== undefined
          ? { position }
          : zoned?.activity.timezone !== undefined
            ? { zone: zoned.activity.timezone }
            : undefined;
      if (found === undefined) continue;
      for (const source of p.activity.sources) zones.set(listingKey(source), found);
      state.bump('timezones_discovered');
    }
    return zones;
  }

  private async processActivity(
    userId: string,
    plan: ActivityPlan,
    byId: ReadonlyMap<string, LiveConnection>,
    failureIndex: ReadonlyMap<string, FailureRecord>,
    ours: ReadonlyMap<string, ReadonlySet<string>>,
    state: RunState,
    fallbacks: { userCommon?: string; userSetting?: string },
  ): Promise<void> {
    const { repos } = this.deps;
    const a = plan.activity;
    const record = await repos.activities.upsert(
      userId,
      {
        uid: plan.activityKey,
        uids: a.uids,
        externalIds: a.externalIds,
        startAt: new Date(a.start),
        endAt: a.end === undefined ? null : new Date(a.end),
        timezone: a.timezone ?? null,
        type: a.type,
        name: a.name ?? null,
        distance: a.distance ?? null,
        private: a.private,
        stationary: a.stationary ?? null,
      },
      { markSeen: state.markSeen },
    );
    const uploads: Extract<DestinationDecision, { kind: 'upload' }>[] = [];
    for (const d of plan.destinations) {
      const presence = this.presenceFor(d, plan);
      if (d.kind === 'upload') uploads.push(d);
      else state.bump(d.kind === 'skipped' ? `skipped_${d.reason}` : d.kind === 'deferred' ? 'deferred' : 'present');
      if (d.kind === 'deferred') state.deferred += 1;
      if (presence !== undefined) await repos.activities.setPresence(userId, record.id, d.connectionId, presence);
    }
    const live = uploads.filter((d) => byId.get(d.connectionId)?.state.excluded === undefined);
    if (live.length === 0) return;

    const downloaded = await this.download(userId, plan, byId, state);
    if (!('failure' in downloaded)) await this.keepOriginal(userId, record.id, downloaded, a.timezone);
    const fail = async (d: (typeof live)[number], failure: ClassifiedFailure): Promise<void> =>
      this.recordUploadFailure(userId, plan, record.id, byId.get(d.connectionId)!, failure, failureIndex, state);
    if ('failure' in downloaded) {
      for (const d of live) {
        await fail(d, { ...classifyFailure(undefined, 'download'), message: downloaded.failure });
      }
      return;
    }
    const zoned = zoneActivity(downloaded.activity, fallbacks);
    if (zoned === undefined) {
      for (const d of live)
        await this.excludeAt(userId, record.id, d.connectionId, plan.activityKey, 'tz_unknown', state);
      return;
    }
    const activity: Activity = {
      ...zoned.activity,
      name: zoned.activity.name ?? a.name,
      notes: zoned.activity.notes ?? a.notes,
      // Our own copy's privacy is the destination's default, not the user's (see withoutOwnCopiesPrivacy).
      private: a.private || (zoned.activity.private === true && !isOwnCopy(a, downloaded.sourceId, ours)),
    };
    // §2.6/2.8: the gates are checked again on the full activity, which knows more than the listing did.
    const privateAllowed = a.presence.some((p) => byId.get(p.connectionId)?.state.settings.syncPrivate === true);
    for (const d of live) {
      const dest = byId.get(d.connectionId)!;
      if (dest.state.excluded !== undefined) continue;
      const cap = dest.state.capabilities;
      const gate =
        activity.private === true && !privateAllowed
          ? 'private'
          : activity.stationary === true && !cap.acceptsStationary
            ? 'stationary'
            : activity.stationary !== true && activity.gps === false && !cap.acceptsNonGps
              ? 'nongps'
              : undefined;
      if (gate !== undefined) {
        state.bump(`skipped_${gate}`);
        await repos.activities.setPresence(userId, record.id, dest.row.id, { state: 'excluded', reasonCode: gate });
        continue;
      }
      await this.uploadTo(userId, plan, record.id, dest, { ...activity, type: d.uploadType }, failureIndex, state);
    }
  }

  /** The presence row for a decision; uploads are written after their outcome, retry waits keep the failure row. */
  private presenceFor(d: DestinationDecision, plan: ActivityPlan): PresenceInput | undefined {
    switch (d.kind) {
      case 'present': {
        const remoteId = plan.activity.presence.find((p) => p.connectionId === d.connectionId)?.remoteIds[0];
        return { state: 'present', reasonCode: d.reason, remoteId: remoteId ?? null };
      }
      case 'upload':
        return undefined;
      case 'deferred':
        return d.reason === 'retry_backoff'
          ? undefined
          : { state: 'pending', reasonCode: d.reason, nextAttemptAt: new Date(d.until) };
      case 'skipped':
        return { state: 'excluded', reasonCode: d.reason, reasonDetail: d.detail ?? null };
    }
  }

  private async excludeAt(
    userId: string,
    recordId: string,
    connectionId: string,
    key: string,
    reason: 'tz_unknown',
    state: RunState,
  ): Promise<void> {
    state.bump(`skipped_${reason}`);
    await this.deps.repos.exclusions.upsert(userId, connectionId, { key, permanent: false, reason });
    await this.deps.repos.activities.setPresence(userId, recordId, connectionId, {
      state: 'excluded',
      reasonCode: reason,
    });
  }

  /** Archives the downloaded file for downloads and exports; failing only costs a later re-fetch, never the sync. */
  private async keepOriginal(
    userId: string,
    recordId: string,
    downloaded: { activity: Activity; sourceId: string },
    zone: string | undefined,
  ): Promise<void> {
    try {
      const { originals } = this.deps.repos;
      await storeDownloadedOriginal(originals, userId, recordId, downloaded.sourceId, downloaded.activity, zone);
    } catch (err) {
      this.logger.warn({ err, userId, recordId }, 'could not store the original file');
    }
  }

  /** §2.7: the best source first, falling back to the next one when a download fails or the file is not sane. */
  private async download(
    userId: string,
    plan: ActivityPlan,
    byId: ReadonlyMap<string, LiveConnection>,
    state: RunState,
  ): Promise<Downloaded> {
    const tried: string[] = [];
    let lastProblem = 'no source could supply the activity';
    for (
      let sourceId = nextSource(plan.sources, tried);
      sourceId !== undefined;
      sourceId = nextSource(plan.sources, tried)
    ) {
      tried.push(sourceId);
      const source = byId.get(sourceId);
      const summary = plan.activity.sources.find((s) => s.connectionId === sourceId)?.summary;
      if (source === undefined || summary === undefined || source.state.excluded !== undefined) continue;
      const key = listingKey({ connectionId: sourceId, summary });
      const cached = state.downloads.get(key);
      if (cached !== undefined) return { activity: cached, sourceId };
      // Each source is tried at most once per sync (tapiriik §2.9), even when the timezone search already did.
      const failedBefore = state.failedDownloads.get(key);
      if (failedBefore !== undefined) {
        lastProblem = failedBefore;
        continue;
      }
      let activity: Activity;
      try {
        activity = await source.connector.downloadActivity(source.ctx, summary);
      } catch (err) {
        const failure = classifyFailure(err, 'download');
        lastProblem = failure.message;
        state.failedDownloads.set(key, failure.message);
        if (failure.connectionLevel) await this.excludeConnection(userId, source, failure, 'download', state);
        else {
          state.addError({
            code: 'download',
            message: failure.message,
            connectionId: sourceId,
            activityUid: plan.activityKey,
          });
        }
        continue;
      }
      const cleaned = withInferredFlags(cleanStats(activity).activity);
      const problems = checkSanity(cleaned, { now: this.now() });
      if (problems.length > 0) {
        lastProblem = problems.map((p) => p.message).join('; ');
        state.failedDownloads.set(key, lastProblem);
        // tapiriik's CheckSanity: the copy at this source is unusable for good; another source may be fine.
        await this.deps.repos.exclusions.upsert(userId, sourceId, {
          key: plan.activityKey,
          permanent: true,
          reason: 'sanity',
          message: lastProblem.slice(0, 1000),
        });
        state.bump('excluded_sanity');
        continue;
      }
      state.downloads.set(key, cleaned);
      return { activity: cleaned, sourceId };
    }
    return { failure: lastProblem };
  }

  /**
   * §2.8 with the idempotency ledger: reserve, upload, complete. A reservation left `in_flight` by a crash may
   * already have landed, so the upload is repeated with a stable external id and the destination's duplicate answer
   * counts as success; an `uploaded` entry is never sent again.
   */
  private async uploadTo(
    userId: string,
    plan: ActivityPlan,
    recordId: string,
    dest: LiveConnection,
    activity: Activity,
    failureIndex: ReadonlyMap<string, FailureRecord>,
    state: RunState,
  ): Promise<void> {
    const { ledger } = this.deps.repos;
    const key = plan.activityKey;
    const reservation = await ledger.reserveUpload(userId, dest.row.id, key, recordId);
    if (reservation.outcome === 'uploaded') {
      await this.recordUploaded(userId, plan, recordId, dest, reservation.row.remote_id, state, false);
      return;
    }
    if (reservation.outcome === 'in_flight') state.bump('resumed_in_flight');
    let remoteId: string;
    try {
      remoteId = (await dest.connector.uploadActivity(dest.ctx, activity, { externalId: `tributary-${key}` })).remoteId;
    } catch (err) {
      const existing = duplicateRemoteId(err);
      if (existing === undefined) {
        const failure = classifyFailure(err, 'upload');
        if (!failure.outcomeUnknown) await ledger.releaseUpload(userId, dest.row.id, key);
        await this.recordUploadFailure(userId, plan, recordId, dest, failure, failureIndex, state);
        return;
      }
      remoteId = existing;
    }
    await ledger.completeUpload(userId, dest.row.id, key, remoteId);
    await this.recordUploaded(userId, plan, recordId, dest, remoteId, state, true);
  }

  private async recordUploaded(
    userId: string,
    plan: ActivityPlan,
    recordId: string,
    dest: LiveConnection,
    remoteId: string | null,
    state: RunState,
    fresh: boolean,
  ): Promise<void> {
    const { repos } = this.deps;
    await repos.activities.setPresence(userId, recordId, dest.row.id, {
      state: 'present',
      reasonCode: 'uploaded',
      remoteId,
      uploadedAt: new Date(this.now()),
    });
    await repos.ledger.addSynchronizedUids(userId, dest.row.id, keysToRecordAfterUpload(plan.activity, dest.state));
    state.bump(fresh ? 'uploaded' : 'already_uploaded');
    if (fresh) this.deps.metrics?.activitySynced(dest.connector.id);
  }

  private async recordUploadFailure(
    userId: string,
    plan: ActivityPlan,
    recordId: string,
    dest: LiveConnection,
    failure: ClassifiedFailure,
    failureIndex: ReadonlyMap<string, FailureRecord>,
    state: RunState,
  ): Promise<void> {
    const { repos } = this.deps;
    const now = this.now();
    state.failures += 1;
    state.bump('failed');
    if (failure.connectionLevel) await this.excludeConnection(userId, dest, failure, 'upload', state);
    else
      state.addError({
        code: failure.type,
        message: failure.message,
        connectionId: dest.row.id,
        activityUid: plan.activityKey,
      });
    const previous = failureIndex.get(failureKey(plan.activityKey, dest.row.id, 'upload'));
    const next = recordFailure(
      previous,
      {
        activityKey: plan.activityKey,
        connectionId: dest.row.id,
        direction: 'upload',
        now,
        rateLimited: failure.uncounted,
        ...(failure.retryAfterMs === undefined ? {} : { retryAfterMs: failure.retryAfterMs }),
        message: failure.message,
      },
      this.options.retryPolicy,
    );
    const nextAttemptAt = new Date(next.nextAttemptAt);
    if (failure.uncounted) {
      // Rate limits and slow processing say nothing about the activity: wait, but do not count towards the limit.
      await repos.activities.setPresence(userId, recordId, dest.row.id, {
        state: 'pending',
        reasonCode: RATE_LIMITED_REASON,
        reasonDetail: failure.message,
        nextAttemptAt,
      });
      return;
    }
    const count = await repos.activities.recordFailure(userId, recordId, dest.row.id, {
      reasonCode: failure.type,
      reasonDetail: failure.message,
      nextAttemptAt,
    });
    if (failure.connectionLevel) return;
    await repos.syncErrors.record(userId, {
      connectionId: dest.row.id,
      scope: 'activity',
      step: 'upload',
      code: failure.type,
      message: failure.message,
      activityUid: plan.activityKey,
    });
    if (count >= maxAttemptsFor(dest.state.service, 'upload', this.options.retryPolicy)) {
      const gaveUp = retryLimitError({ ...next, count }, now);
      await repos.syncErrors.record(userId, {
        connectionId: dest.row.id,
        scope: 'activity',
        step: 'upload',
        code: 'retry_limit',
        message: gaveUp.message,
        blocking: true,
        activityUid: plan.activityKey,
      });
    }
  }

  private async finish(
    request: SyncUserRequest,
    run: SyncRunRow,
    state: RunState,
    status: Exclude<SyncUserStatus, 'skipped'>,
    log: Logger,
    context?: {
      startedAt: number;
      connections: readonly LiveConnection[];
      settings: UserSettings;
      nextWakeAt?: number;
      exhaustive?: boolean;
    },
  ): Promise<SyncUserResult> {
    const { repos } = this.deps;
    const { userId } = request;
    if (context !== undefined) {
      const listedAt = new Date(context.startedAt);
      for (const conn of context.connections) {
        if (!conn.listed) continue;
        // A webhook that arrived during this run keeps its trigger (its job was dropped while this one ran).
        await repos.connections.markListed(userId, conn.row.id, listedAt, run.started_at ?? undefined);
        // The checkpoint skips what it covers next time, so it may only move once all of that went through.
        if (conn.checkpoint !== undefined && state.failures === 0 && state.deferred === 0) {
          await repos.connections.updateConfig(userId, conn.row.id, conn.checkpoint);
        }
      }
      const everyoneListedFully = context.connections.every((c) => c.listed && c.exhaustive);
      if (context.exhaustive === true && everyoneListedFully && status === 'succeeded') {
        // The database's own start time: records are stamped seen by its clock, which may differ from ours.
        const cutoff = run.started_at ?? listedAt;
        state.bump('records_dropped', await repos.activities.deleteUnseenSince(userId, cutoff));
      }
      // Jittered so that users who connected together do not stay in lockstep and hit the providers at once.
      const scheduled = context.settings.autoSync
        ? nextSyncAt(new Date(this.now()), this.options.syncIntervalMs / 60_000).getTime()
        : undefined;
      const next = [scheduled, context.nextWakeAt].filter((t): t is number => t !== undefined);
      await repos.users.markSynced(userId, {
        nextSyncAt: next.length === 0 ? null : new Date(Math.min(...next)),
        nextExhaustive: false,
      });
    }
    const counts: SyncRunCounts = { ...state.counts };
    await repos.syncRuns.finish(userId, run.id, { status, counts, errors: state.errors });
    log.info({ status, counts }, 'sync finished');
    const result: SyncUserResult = { status, runId: run.id, counts, errors: state.errors };
    if (context?.nextWakeAt !== undefined) result.nextWakeAt = context.nextWakeAt;
    return result;
  }
}
