import { type Kysely, sql } from 'kysely';
import { NotFoundError } from '@tributary/common';
import {
  ACTIVE_SYNC_RUN_STATUSES,
  type DB,
  type SyncRunCounts,
  type SyncRunErrorEntry,
  type SyncRunRow,
  type SyncRunStatus,
  type SyncTrigger,
} from '../schema';
import { isUuid } from './pg-errors.util';

export type FinishedSyncRunStatus = Exclude<SyncRunStatus, 'queued' | 'running'>;

/** Sync runs: one row per sync of a user, read by the UI (progress) and the watchdog (heartbeat). */
export class SyncRunRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /**
   * Queues a run unless the user already has one queued or running (partial unique index), in which case that one
   * is returned with `created: false`. A request for an exhaustive run upgrades a queued partial one.
   */
  async enqueue(
    userId: string,
    opts: { trigger: SyncTrigger; exhaustive?: boolean },
  ): Promise<{ run: SyncRunRow; created: boolean }> {
    const inserted = await this.db
      .insertInto('sync_runs')
      .values({ user_id: userId, trigger: opts.trigger, exhaustive: opts.exhaustive ?? false })
      .onConflict((oc) =>
        oc
          .column('user_id')
          .where('status', 'in', [...ACTIVE_SYNC_RUN_STATUSES])
          .doNothing(),
      )
      .returningAll()
      .executeTakeFirst();
    if (inserted !== undefined) return { run: inserted, created: true };
    const existing = await this.db
      .updateTable('sync_runs')
      .set({ exhaustive: opts.exhaustive ? sql<boolean>`exhaustive OR status = 'queued'` : sql<boolean>`exhaustive` })
      .where('user_id', '=', userId)
      .where('status', 'in', [...ACTIVE_SYNC_RUN_STATUSES])
      .returningAll()
      .executeTakeFirst();
    // The active run finished between our two statements: queue afresh.
    if (existing === undefined) return this.enqueue(userId, opts);
    return { run: existing, created: false };
  }

  /** Moves a queued run to running for this worker; null when it is no longer queued (another worker took it). */
  async start(userId: string, runId: string, workerId: string): Promise<SyncRunRow | null> {
    if (!isUuid(runId)) return null;
    const row = await this.db
      .updateTable('sync_runs')
      .set({ status: 'running', worker_id: workerId, started_at: sql<Date>`now()`, heartbeat_at: sql<Date>`now()` })
      .where('id', '=', runId)
      .where('user_id', '=', userId)
      .where('status', '=', 'queued')
      .returningAll()
      .executeTakeFirst();
    return row ?? null;
  }

  /** Progress and liveness; counts are merged key by key. */
  async heartbeat(
    userId: string,
    runId: string,
    update: { progress?: number; phase?: string | null; counts?: SyncRunCounts } = {},
  ): Promise<void> {
    if (!isUuid(runId)) throw new NotFoundError('sync run', runId);
    const res = await this.db
      .updateTable('sync_runs')
      .set((eb) => ({
        heartbeat_at: sql<Date>`now()`,
        progress: update.progress === undefined ? eb.ref('progress') : Math.min(1, Math.max(0, update.progress)),
        phase: update.phase === undefined ? eb.ref('phase') : update.phase,
        counts: update.counts === undefined ? eb.ref('counts') : sql`counts || ${JSON.stringify(update.counts)}::jsonb`,
      }))
      .where('id', '=', runId)
      .where('user_id', '=', userId)
      .where('status', '=', 'running')
      .executeTakeFirst();
    if (res.numUpdatedRows === 0n) throw new NotFoundError('running sync run', runId);
  }

  async finish(
    userId: string,
    runId: string,
    result: { status: FinishedSyncRunStatus; counts?: SyncRunCounts; errors?: SyncRunErrorEntry[] },
  ): Promise<SyncRunRow> {
    if (!isUuid(runId)) throw new NotFoundError('sync run', runId);
    const row = await this.db
      .updateTable('sync_runs')
      .set((eb) => ({
        status: result.status,
        finished_at: sql<Date>`now()`,
        progress: result.status === 'succeeded' ? 1 : eb.ref('progress'),
        phase: null,
        counts: result.counts === undefined ? eb.ref('counts') : sql`counts || ${JSON.stringify(result.counts)}::jsonb`,
        errors: result.errors === undefined ? eb.ref('errors') : sql`${JSON.stringify(result.errors)}::jsonb`,
      }))
      .where('id', '=', runId)
      .where('user_id', '=', userId)
      .where('status', 'in', [...ACTIVE_SYNC_RUN_STATUSES])
      .returningAll()
      .executeTakeFirst();
    if (row === undefined) throw new NotFoundError('active sync run', runId);
    return row;
  }

  async findById(userId: string, runId: string): Promise<SyncRunRow | undefined> {
    if (!isUuid(runId)) return undefined;
    return this.db
      .selectFrom('sync_runs')
      .selectAll()
      .where('id', '=', runId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
  }

  async findActive(userId: string): Promise<SyncRunRow | undefined> {
    return this.db
      .selectFrom('sync_runs')
      .selectAll()
      .where('user_id', '=', userId)
      .where('status', 'in', [...ACTIVE_SYNC_RUN_STATUSES])
      .executeTakeFirst();
  }

  async listRecent(userId: string, limit = 20): Promise<SyncRunRow[]> {
    return this.db
      .selectFrom('sync_runs')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('queued_at', 'desc')
      .orderBy('id')
      .limit(limit)
      .execute();
  }

  /** Watchdog query (system-wide): running runs whose worker stopped sending heartbeats. */
  async findStale(heartbeatBefore: Date, limit = 100): Promise<SyncRunRow[]> {
    return this.db
      .selectFrom('sync_runs')
      .selectAll()
      .where('status', '=', 'running')
      .where('heartbeat_at', '<', heartbeatBefore)
      .orderBy('heartbeat_at')
      .limit(limit)
      .execute();
  }
}
