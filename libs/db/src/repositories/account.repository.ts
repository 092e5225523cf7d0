import { type Kysely, sql } from 'kysely';
import { NotFoundError, ValidationError } from '@tributary/common';
import { type DB } from '../schema';
import { isUuid } from './pg-errors.util';
import { CONNECTION_VIEW_COLUMNS, type ConnectionView } from './connection.repository';

export interface MergeResult {
  /** Connections that now belong to the surviving user. */
  moved: ConnectionView[];
  /**
   * Connections of the absorbed user for services the survivor already had (one connection per service), deleted.
   * Their tokens should be revoked at the service by the caller, which read the credentials before merging.
   */
  dropped: ConnectionView[];
}

export interface ReconnectResult {
  /** Open connection-level errors (expired or revoked authorisation, listings that failed) now cleared. */
  errorsCleared: number;
  /** Temporary exclusions of activities at the connection, dropped so they are decided afresh. */
  exclusionsRemoved: number;
}

export interface DisconnectResult {
  disconnected: boolean;
  /** The connection was the user's last, so the user (and everything of theirs) was deleted too. */
  userDeleted: boolean;
}

/**
 * Operations on a whole account that must be atomic across tables: merging two users (tapiriik merged when you
 * connected a service that another user of the hub owned) and disconnecting the last service (which deletes the user).
 */
export class AccountRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /**
   * Moves everything worth keeping of `fromUserId` into `intoUserId`, then deletes `fromUserId`, in one transaction.
   * The survivor is the owner of the account just connected, so on a service both have, the survivor's connection
   * wins. Connections keep their ledgers (synchronized UIDs, uploads, exclusions), which is what prevents duplicates.
   * Cached activity records, open errors and flow exceptions of the absorbed user are dropped: they pair user-owned
   * rows and are rebuilt by the exhaustive sync the survivor is scheduled for.
   */
  async mergeUsers(fromUserId: string, intoUserId: string): Promise<MergeResult> {
    if (!isUuid(fromUserId)) throw new NotFoundError('user', fromUserId);
    if (!isUuid(intoUserId)) throw new NotFoundError('user', intoUserId);
    if (fromUserId === intoUserId) throw new ValidationError('Cannot merge a user into itself', { field: 'user' });
    return this.db.transaction().execute(async (trx) => {
      // Lock both users in a stable order so two crossing merges cannot deadlock.
      const locked = await trx
        .selectFrom('users')
        .select('id')
        .where('id', 'in', [fromUserId, intoUserId])
        .orderBy('id')
        .forUpdate()
        .execute();
      if (!locked.some((u) => u.id === fromUserId)) throw new NotFoundError('user', fromUserId);
      if (!locked.some((u) => u.id === intoUserId)) throw new NotFoundError('user', intoUserId);

      await trx.deleteFrom('activity_records').where('user_id', '=', fromUserId).execute();
      await trx.deleteFrom('sync_errors').where('user_id', '=', fromUserId).execute();
      await trx.deleteFrom('flow_exceptions').where('user_id', '=', fromUserId).execute();

      const dropped = await trx
        .deleteFrom('connections')
        .where('user_id', '=', fromUserId)
        .where('service', 'in', (eb) =>
          eb.selectFrom('connections').select('service').where('user_id', '=', intoUserId),
        )
        .returning(CONNECTION_VIEW_COLUMNS)
        .execute();
      const moved = await trx
        .updateTable('connections')
        .set({ user_id: intoUserId, updated_at: sql<Date>`now()` })
        .where('user_id', '=', fromUserId)
        .returning(CONNECTION_VIEW_COLUMNS)
        .execute();
      await trx.deleteFrom('users').where('id', '=', fromUserId).execute();
      await trx
        .updateTable('users')
        .set({ next_sync_at: sql<Date>`now()`, next_sync_exhaustive: true })
        .where('id', '=', intoUserId)
        .execute();
      return { moved, dropped };
    });
  }

  /**
   * After the user authorised an existing connection again (tapiriik cleared the `reauth` group then): the connection
   * is usable, so what kept it out of syncs goes, and the user's next sync is exhaustive and due now, since listings
   * failed for as long as the authorisation was broken. Connection-level errors are all cleared, not only the auth
   * ones: a failure that persists is recorded again by that sync. Activity-level errors and permanent exclusions
   * (a file the service rejected for good) stay. One transaction, scoped to the user's own connection.
   */
  async reconnected(userId: string, connectionId: string): Promise<ReconnectResult> {
    if (!isUuid(userId) || !isUuid(connectionId)) throw new NotFoundError('connection', connectionId);
    return this.db.transaction().execute(async (trx) => {
      const owned = await trx
        .selectFrom('connections')
        .select('id')
        .where('id', '=', connectionId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      if (owned === undefined) throw new NotFoundError('connection', connectionId);
      const cleared = await trx
        .updateTable('sync_errors')
        .set({ cleared_at: sql<Date>`now()` })
        .where('user_id', '=', userId)
        .where('connection_id', '=', connectionId)
        .where('scope', '=', 'connection')
        .where('cleared_at', 'is', null)
        .executeTakeFirst();
      const removed = await trx
        .deleteFrom('exclusions')
        .where('connection_id', '=', connectionId)
        .where('permanent', '=', false)
        .executeTakeFirst();
      await trx
        .updateTable('connections')
        .set({ status: 'ok', updated_at: sql<Date>`now()` })
        .where('id', '=', connectionId)
        .where('user_id', '=', userId)
        .where('status', '=', 'needs_reauth')
        .execute();
      await trx
        .updateTable('users')
        .set({ next_sync_at: sql<Date>`now()`, next_sync_exhaustive: true })
        .where('id', '=', userId)
        .execute();
      return { errorsCleared: Number(cleared.numUpdatedRows), exclusionsRemoved: Number(removed.numDeletedRows) };
    });
  }

  /**
   * Deletes one of the user's connections; when none is left, deletes the user as well (tapiriik: an account is its
   * connections). Both in one transaction, so two concurrent disconnects cannot leave an empty user behind.
   */
  async disconnect(userId: string, connectionId: string): Promise<DisconnectResult> {
    if (!isUuid(userId) || !isUuid(connectionId)) return { disconnected: false, userDeleted: false };
    return this.db.transaction().execute(async (trx) => {
      const user = await trx.selectFrom('users').select('id').where('id', '=', userId).forUpdate().executeTakeFirst();
      if (user === undefined) return { disconnected: false, userDeleted: false };
      const res = await trx
        .deleteFrom('connections')
        .where('user_id', '=', userId)
        .where('id', '=', connectionId)
        .executeTakeFirst();
      if (res.numDeletedRows === 0n) return { disconnected: false, userDeleted: false };
      const left = await trx
        .selectFrom('connections')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('user_id', '=', userId)
        .executeTakeFirstOrThrow();
      if (Number(left.n) > 0) return { disconnected: true, userDeleted: false };
      await trx.deleteFrom('users').where('id', '=', userId).execute();
      return { disconnected: true, userDeleted: true };
    });
  }
}
