import { type Kysely, sql } from 'kysely';
import { NotFoundError } from '@tributary/common';
import { type DB, type SyncErrorRow, type SyncErrorScope, type SyncStep } from '../schema';
import { isForeignKeyViolation, isUuid } from './pg-errors.util';

export interface SyncErrorInput {
  connectionId?: string | null;
  scope: SyncErrorScope;
  step?: SyncStep | null;
  code: string;
  clearGroup?: string | null;
  message: string;
  blocking?: boolean;
  intervention?: string | null;
  triggerExhaustive?: boolean;
  activityUid?: string | null;
}

/** Stored trimmed: messages come from upstream responses and stack traces. */
const MAX_MESSAGE = 2000;

/** Persisted sync errors, one row per (user, connection, scope, code, activity) with an occurrence count. */
export class SyncErrorRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /**
   * Records an occurrence: inserts, or bumps count/last_at of the existing row. A row that was cleared and occurs
   * again is reopened with a fresh count.
   */
  async record(userId: string, input: SyncErrorInput): Promise<SyncErrorRow> {
    if (input.connectionId !== undefined && input.connectionId !== null && !isUuid(input.connectionId)) {
      throw new NotFoundError('connection', input.connectionId);
    }
    try {
      return await this.db
        .insertInto('sync_errors')
        .values({
          user_id: userId,
          connection_id: input.connectionId ?? null,
          scope: input.scope,
          step: input.step ?? null,
          code: input.code,
          clear_group: input.clearGroup ?? null,
          message: input.message.slice(0, MAX_MESSAGE),
          blocking: input.blocking ?? false,
          intervention: input.intervention ?? null,
          trigger_exhaustive: input.triggerExhaustive ?? false,
          activity_uid: input.activityUid ?? null,
        })
        .onConflict((oc) =>
          oc.constraint('sync_errors_dedup_key').doUpdateSet((eb) => ({
            step: eb.ref('excluded.step'),
            clear_group: eb.ref('excluded.clear_group'),
            message: eb.ref('excluded.message'),
            blocking: eb.ref('excluded.blocking'),
            intervention: eb.ref('excluded.intervention'),
            trigger_exhaustive: eb.ref('excluded.trigger_exhaustive'),
            last_at: sql<Date>`now()`,
            count: sql<number>`CASE WHEN sync_errors.cleared_at IS NULL THEN sync_errors.count + 1 ELSE 1 END`,
            first_at: sql<Date>`CASE WHEN sync_errors.cleared_at IS NULL THEN sync_errors.first_at ELSE now() END`,
            cleared_at: null,
          })),
        )
        .returningAll()
        .executeTakeFirstOrThrow();
    } catch (err) {
      if (isForeignKeyViolation(err)) throw new NotFoundError('connection', input.connectionId ?? undefined);
      throw err;
    }
  }

  async listOpen(userId: string, opts: { connectionId?: string } = {}): Promise<SyncErrorRow[]> {
    let q = this.db.selectFrom('sync_errors').selectAll().where('user_id', '=', userId).where('cleared_at', 'is', null);
    if (opts.connectionId !== undefined) {
      if (!isUuid(opts.connectionId)) return [];
      q = q.where('connection_id', '=', opts.connectionId);
    }
    return q.orderBy('last_at', 'desc').orderBy('id').execute();
  }

  /** Open blocking errors that make every sync exhaustive (tapiriik's ForcingExhaustiveSyncErrorCount). */
  async countForcingExhaustive(userId: string): Promise<number> {
    const row = await this.db
      .selectFrom('sync_errors')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('user_id', '=', userId)
      .where('cleared_at', 'is', null)
      .where('blocking', '=', true)
      .where('trigger_exhaustive', '=', true)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async clear(userId: string, errorId: string): Promise<boolean> {
    if (!isUuid(errorId)) return false;
    const res = await this.db
      .updateTable('sync_errors')
      .set({ cleared_at: sql<Date>`now()` })
      .where('user_id', '=', userId)
      .where('id', '=', errorId)
      .where('cleared_at', 'is', null)
      .executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }

  /** The user's "it's ready to go" button: clears one group of a connection; returns how many were cleared. */
  async clearGroup(userId: string, connectionId: string, clearGroup: string): Promise<number> {
    if (!isUuid(connectionId)) return 0;
    const res = await this.db
      .updateTable('sync_errors')
      .set({ cleared_at: sql<Date>`now()` })
      .where('user_id', '=', userId)
      .where('connection_id', '=', connectionId)
      .where('clear_group', '=', clearGroup)
      .where('cleared_at', 'is', null)
      .executeTakeFirst();
    return Number(res.numUpdatedRows);
  }

  /** Reconnecting clears the connection's errors with these codes (e.g. `auth`, `renew_password`). */
  async clearCodes(userId: string, connectionId: string, codes: readonly string[]): Promise<number> {
    if (!isUuid(connectionId) || codes.length === 0) return 0;
    const res = await this.db
      .updateTable('sync_errors')
      .set({ cleared_at: sql<Date>`now()` })
      .where('user_id', '=', userId)
      .where('connection_id', '=', connectionId)
      .where('code', 'in', [...codes])
      .where('cleared_at', 'is', null)
      .executeTakeFirst();
    return Number(res.numUpdatedRows);
  }

  /** Start of a sync: non-blocking errors from earlier runs are dropped, blocking ones stay. */
  async clearNonBlocking(userId: string): Promise<number> {
    const res = await this.db
      .updateTable('sync_errors')
      .set({ cleared_at: sql<Date>`now()` })
      .where('user_id', '=', userId)
      .where('blocking', '=', false)
      .where('cleared_at', 'is', null)
      .executeTakeFirst();
    return Number(res.numUpdatedRows);
  }
}
