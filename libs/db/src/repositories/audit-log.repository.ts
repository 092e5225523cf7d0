import { type Kysely } from 'kysely';
import { ValidationError } from '@tributary/common';
import { type AuditLogRow, type DB } from '../schema';
import { isUuid } from './pg-errors.util';

export interface AuditEntry {
  /** Null for actions taken by the system or a CLI run without a user. */
  actorUserId: string | null;
  /** Dotted verb, e.g. `admin.user.view`, `admin.user.requeue`. */
  action: string;
  targetUserId?: string | null;
  details?: Record<string, unknown>;
}

/** An entry as the audit view shows it: the actor's and target's emails as they are now (null once deleted). */
export interface AuditEntryView extends AuditLogRow {
  actor_email: string | null;
  target_email: string | null;
}

const MAX_LIMIT = 500;

/** What administrators did, to whom: written by every admin page view of a user's data and every admin action. */
export class AuditLogRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async record(entry: AuditEntry): Promise<AuditLogRow> {
    if (entry.action.trim() === '') throw new ValidationError('An audit entry needs an action', { field: 'action' });
    return this.db
      .insertInto('audit_log')
      .values({
        actor_user_id: entry.actorUserId,
        action: entry.action,
        // A target named by a malformed id (a search for garbage) has no row to point at.
        target_user_id:
          entry.targetUserId !== undefined && entry.targetUserId !== null && isUuid(entry.targetUserId)
            ? entry.targetUserId
            : null,
        details: entry.details ?? {},
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /**
   * Newest first. `beforeId` pages backwards (ids only grow). Filters combine; a malformed user id matches nothing.
   */
  async list(
    opts: { targetUserId?: string; actorUserId?: string; action?: string; beforeId?: string; limit?: number } = {},
  ): Promise<AuditEntryView[]> {
    if (opts.targetUserId !== undefined && !isUuid(opts.targetUserId)) return [];
    if (opts.actorUserId !== undefined && !isUuid(opts.actorUserId)) return [];
    let q = this.db
      .selectFrom('audit_log as a')
      .leftJoin('users as actor', 'actor.id', 'a.actor_user_id')
      .leftJoin('users as target', 'target.id', 'a.target_user_id')
      .selectAll('a')
      .select(['actor.email as actor_email', 'target.email as target_email']);
    if (opts.targetUserId !== undefined) q = q.where('a.target_user_id', '=', opts.targetUserId);
    if (opts.actorUserId !== undefined) q = q.where('a.actor_user_id', '=', opts.actorUserId);
    if (opts.action !== undefined) q = q.where('a.action', '=', opts.action);
    if (opts.beforeId !== undefined) {
      if (!/^\d{1,18}$/.test(opts.beforeId)) return [];
      q = q.where('a.id', '<', opts.beforeId);
    }
    return q
      .orderBy('a.id', 'desc')
      .limit(Math.max(1, Math.min(MAX_LIMIT, opts.limit ?? 50)))
      .execute();
  }
}
