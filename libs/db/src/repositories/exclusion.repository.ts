import { type Kysely, sql } from 'kysely';
import { NotFoundError } from '@tributary/common';
import { type DB, type ExclusionRow, type FlowExceptionRow } from '../schema';
import { isForeignKeyViolation, isUniqueViolation, isUuid } from './pg-errors.util';

export interface ExclusionInput {
  /** The activity's UID or `service:externalId`. */
  key: string;
  permanent?: boolean;
  reason: string;
  message?: string | null;
  expiresAt?: Date | null;
}

/** Activities a connection must skip, and flow exceptions (source → target pairs that must not sync). */
export class ExclusionRepository {
  constructor(private readonly db: Kysely<DB>) {}

  private owned(userId: string, connectionId: string) {
    return this.db.selectFrom('connections').select('id').where('id', '=', connectionId).where('user_id', '=', userId);
  }

  /** Adds or refreshes the exclusion of `key` at the connection (UNIQUE(connection_id, key)). */
  async upsert(userId: string, connectionId: string, input: ExclusionInput): Promise<ExclusionRow> {
    if (!isUuid(connectionId)) throw new NotFoundError('connection', connectionId);
    const permanent = input.permanent ?? false;
    const row = await this.db
      .insertInto('exclusions')
      .columns(['connection_id', 'key', 'permanent', 'reason', 'message', 'expires_at'])
      .expression(
        this.db
          .selectFrom('connections')
          .select([
            'id',
            sql<string>`${input.key}::text`.as('key'),
            sql<boolean>`${permanent}::boolean`.as('permanent'),
            sql<string>`${input.reason}::text`.as('reason'),
            sql<string | null>`${input.message ?? null}::text`.as('message'),
            sql<Date | null>`${permanent ? null : (input.expiresAt ?? null)}::timestamptz`.as('expires_at'),
          ])
          .where('id', '=', connectionId)
          .where('user_id', '=', userId),
      )
      .onConflict((oc) =>
        oc.constraint('exclusions_connection_key_key').doUpdateSet((eb) => ({
          permanent: eb.ref('excluded.permanent'),
          reason: eb.ref('excluded.reason'),
          message: eb.ref('excluded.message'),
          expires_at: eb.ref('excluded.expires_at'),
          effective_at: sql<Date>`now()`,
        })),
      )
      .returningAll()
      .executeTakeFirst();
    if (row === undefined) throw new NotFoundError('connection', connectionId);
    return row;
  }

  /** Exclusions in force at `at`: permanent ones and those not yet expired. */
  async listActive(userId: string, connectionId: string, at: Date = new Date()): Promise<ExclusionRow[]> {
    if (!isUuid(connectionId)) return [];
    return this.db
      .selectFrom('exclusions')
      .selectAll()
      .where('connection_id', 'in', this.owned(userId, connectionId))
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', at)]))
      .orderBy('key')
      .execute();
  }

  /** Every exclusion of every connection of the user, for a sync to load in one query. */
  async listActiveForUser(userId: string, at: Date = new Date()): Promise<ExclusionRow[]> {
    return this.db
      .selectFrom('exclusions as e')
      .innerJoin('connections as c', 'c.id', 'e.connection_id')
      .selectAll('e')
      .where('c.user_id', '=', userId)
      .where((eb) => eb.or([eb('e.expires_at', 'is', null), eb('e.expires_at', '>', at)]))
      .orderBy('e.connection_id')
      .orderBy('e.key')
      .execute();
  }

  async remove(userId: string, connectionId: string, key: string): Promise<boolean> {
    if (!isUuid(connectionId)) return false;
    const res = await this.db
      .deleteFrom('exclusions')
      .where('connection_id', 'in', this.owned(userId, connectionId))
      .where('key', '=', key)
      .executeTakeFirst();
    return res.numDeletedRows > 0n;
  }

  /** Start of a sync: non-permanent exclusions are re-evaluated, so they are dropped. */
  async removeNonPermanent(userId: string): Promise<number> {
    const res = await this.db
      .deleteFrom('exclusions')
      .where('permanent', '=', false)
      .where('connection_id', 'in', this.db.selectFrom('connections').select('id').where('user_id', '=', userId))
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  /** Blocks source → target. Idempotent; both connections must be the user's. */
  async addFlowException(userId: string, sourceConnectionId: string, targetConnectionId: string): Promise<void> {
    if (!isUuid(sourceConnectionId) || !isUuid(targetConnectionId)) throw new NotFoundError('connection');
    try {
      await this.db
        .insertInto('flow_exceptions')
        .values({ user_id: userId, source_connection_id: sourceConnectionId, target_connection_id: targetConnectionId })
        .onConflict((oc) => oc.constraint('flow_exceptions_pair_key').doNothing())
        .execute();
    } catch (err) {
      // Composite FKs: a connection of another user (or none) is simply not found.
      if (isForeignKeyViolation(err)) throw new NotFoundError('connection');
      if (isUniqueViolation(err)) return;
      throw err;
    }
  }

  async removeFlowException(userId: string, sourceConnectionId: string, targetConnectionId: string): Promise<boolean> {
    if (!isUuid(sourceConnectionId) || !isUuid(targetConnectionId)) return false;
    const res = await this.db
      .deleteFrom('flow_exceptions')
      .where('user_id', '=', userId)
      .where('source_connection_id', '=', sourceConnectionId)
      .where('target_connection_id', '=', targetConnectionId)
      .executeTakeFirst();
    return res.numDeletedRows > 0n;
  }

  async listFlowExceptions(userId: string): Promise<FlowExceptionRow[]> {
    return this.db
      .selectFrom('flow_exceptions')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  }
}
