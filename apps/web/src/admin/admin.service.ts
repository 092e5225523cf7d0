import { NotFoundError, ValidationError } from '@tributary/common';
import {
  type AdminDiagnosticsRepository,
  type AuditEntryView,
  type AuditLogRepository,
  type ConnectionRepository,
  type ErrorGroup,
  type RunOverview,
  type SyncDurationBucket,
  type SyncErrorRepository,
  type SyncErrorRow,
  type SyncRunRepository,
  type SyncRunRow,
  type UserRepository,
  type UserRow,
  type UserSearchHit,
} from '@tributary/db';
import { JobName, STALE_HEARTBEAT_MS, SyncPriority, type JobService } from '@tributary/queue';
import { type AdminQueuesService, type QueueReport } from './admin-queues.service';

/** Audit actions; the audit page filters by these. */
export const AdminAction = {
  SearchUsers: 'admin.users.search',
  ViewUser: 'admin.user.view',
  Requeue: 'admin.user.requeue',
  Unlock: 'admin.user.unlock',
} as const;

/** Error code a run failed by "unlock" carries, shown in the user's sync history. */
export const ADMIN_UNLOCKED_CODE = 'admin_unlocked';

export const DURATION_WINDOWS = {
  '24h': { spanMs: 24 * 3_600_000, bucketSeconds: 3600 },
  '7d': { spanMs: 7 * 24 * 3_600_000, bucketSeconds: 6 * 3600 },
  '30d': { spanMs: 30 * 24 * 3_600_000, bucketSeconds: 24 * 3600 },
} as const;
export type DurationWindow = keyof typeof DURATION_WINDOWS;

export function isDurationWindow(value: unknown): value is DurationWindow {
  return typeof value === 'string' && Object.hasOwn(DURATION_WINDOWS, value);
}

export interface AdminOverview {
  queues: QueueReport[];
  queuesAvailable: boolean;
  runs: RunOverview;
  errorGroups: ErrorGroup[];
  durations: SyncDurationBucket[];
  window: DurationWindow;
  generatedAt: Date;
}

export interface ConnectionSummary {
  id: string;
  service: string;
  account: string;
  status: string;
  lastListedAt: Date | null;
  createdAt: Date;
}

export interface UserDetail {
  user: Omit<UserRow, 'password_hash'> & { hasPassword: boolean };
  connections: ConnectionSummary[];
  runs: SyncRunRow[];
  errors: SyncErrorRow[];
  audit: AuditEntryView[];
  leaseExpired: boolean;
}

export interface RequeueResult {
  runId: string;
  /** A sync was already queued or running; it was made exhaustive and urgent instead of adding another. */
  joinedExisting: boolean;
  /** False when the hub has no queue connection: the scheduler picks the user up within a minute instead. */
  queued: boolean;
}

export interface UnlockResult {
  leaseReleased: boolean;
  previousOwner: string | null;
  failedRunId: string | null;
}

export interface AdminServiceDependencies {
  users: UserRepository;
  connections: ConnectionRepository;
  syncRuns: SyncRunRepository;
  syncErrors: SyncErrorRepository;
  diagnostics: AdminDiagnosticsRepository;
  audit: AuditLogRepository;
  queues: AdminQueuesService;
  jobs: JobService | null;
  now?: () => Date;
}

/**
 * Everything the admin pages show and do. Every read of one user's data and every action is written to the audit
 * log with the acting admin, before the data is returned or after the action took effect.
 */
export class AdminService {
  constructor(private readonly deps: AdminServiceDependencies) {}

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  async overview(window: DurationWindow = '24h'): Promise<AdminOverview> {
    const now = this.now();
    const { spanMs, bucketSeconds } = DURATION_WINDOWS[window];
    const [queues, runs, errorGroups, durations] = await Promise.all([
      this.deps.queues.report(),
      this.deps.diagnostics.runOverview(new Date(now.getTime() - STALE_HEARTBEAT_MS)),
      this.deps.diagnostics.errorGroups(50),
      this.deps.diagnostics.syncDurations({ from: new Date(now.getTime() - spanMs), to: now, bucketSeconds }),
    ]);
    return {
      queues,
      queuesAvailable: this.deps.queues.available,
      runs,
      errorGroups,
      durations,
      window,
      generatedAt: now,
    };
  }

  async searchUsers(actorId: string, query: string): Promise<UserSearchHit[]> {
    const q = query.trim();
    if (q === '') return [];
    if (q.length > 320) throw new ValidationError('The search is too long', { field: 'q' });
    const hits = await this.deps.diagnostics.searchUsers(q);
    await this.deps.audit.record({
      actorUserId: actorId,
      action: AdminAction.SearchUsers,
      details: { query: q, hits: hits.map((h) => h.id) },
    });
    return hits;
  }

  async userDetail(actorId: string, userId: string): Promise<UserDetail> {
    const user = await this.deps.users.findById(userId);
    if (user === undefined) throw new NotFoundError('user', userId);
    await this.deps.audit.record({ actorUserId: actorId, action: AdminAction.ViewUser, targetUserId: userId });
    const [connections, runs, errors, audit] = await Promise.all([
      this.deps.connections.listForUser(userId),
      this.deps.syncRuns.listRecent(userId, 20),
      this.deps.syncErrors.listOpen(userId),
      this.deps.audit.list({ targetUserId: userId, limit: 20 }),
    ]);
    const { password_hash: passwordHash, ...rest } = user;
    return {
      user: { ...rest, hasPassword: passwordHash !== null },
      connections: connections.map((c) => ({
        id: c.id,
        service: c.service,
        account: c.display_name ?? c.external_user_id,
        status: c.status,
        lastListedAt: c.last_listed_at,
        createdAt: c.created_at,
      })),
      runs,
      errors,
      audit,
      leaseExpired: user.lease_expires_at !== null && user.lease_expires_at.getTime() < this.now().getTime(),
    };
  }

  /**
   * Queues an exhaustive sync at the highest priority. The run row and next_sync_at are written first, so the
   * request survives a lost job; a run already queued or running is joined (and made exhaustive if still queued).
   */
  async requeue(actorId: string, userId: string): Promise<RequeueResult> {
    const { users, syncRuns, jobs, audit } = this.deps;
    if ((await users.findById(userId)) === undefined) throw new NotFoundError('user', userId);
    const { run, created } = await syncRuns.enqueue(userId, { trigger: 'admin', exhaustive: true });
    await users.scheduleSync(userId, { at: this.now(), exhaustive: true });
    const job =
      jobs === null
        ? null
        : await jobs.enqueue(
            { name: JobName.SyncUser, data: { userId, trigger: 'manual', exhaustive: true } },
            { priority: SyncPriority.Manual },
          );
    const result: RequeueResult = { runId: run.id, joinedExisting: !created, queued: job !== null };
    await audit.record({
      actorUserId: actorId,
      action: AdminAction.Requeue,
      targetUserId: userId,
      details: { ...result, jobId: job?.jobId ?? null, runStatus: run.status },
    });
    return result;
  }

  /**
   * For a sync that is stuck: fails the user's running run (so its worker, should it wake, finds it no longer
   * running and stops) and releases the lease, but only from the holder seen here, so a worker that took the lease
   * over in between keeps it.
   */
  async unlock(actorId: string, userId: string): Promise<UnlockResult> {
    const { users, syncRuns, audit } = this.deps;
    const user = await users.findById(userId);
    if (user === undefined) throw new NotFoundError('user', userId);
    const active = await syncRuns.findActive(userId);
    let failedRunId: string | null = null;
    if (active?.status === 'running') {
      try {
        await syncRuns.finish(userId, active.id, {
          status: 'failed',
          errors: [...active.errors, { code: ADMIN_UNLOCKED_CODE, message: 'stopped by an administrator' }],
        });
        failedRunId = active.id;
      } catch (err) {
        // It finished by itself since we read it: nothing to fail.
        if (!(err instanceof NotFoundError)) throw err;
      }
    }
    const leaseReleased = user.lease_owner !== null && (await users.releaseLease(userId, user.lease_owner));
    const result: UnlockResult = { leaseReleased, previousOwner: user.lease_owner, failedRunId };
    await audit.record({
      actorUserId: actorId,
      action: AdminAction.Unlock,
      targetUserId: userId,
      details: { ...result },
    });
    return result;
  }

  async auditLog(opts: {
    beforeId?: string;
    action?: string;
    targetUserId?: string;
    actorUserId?: string;
  }): Promise<AuditEntryView[]> {
    return this.deps.audit.list({ ...opts, limit: 100 });
  }
}
