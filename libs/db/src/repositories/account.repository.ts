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
