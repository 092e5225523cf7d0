import { type Kysely, sql } from 'kysely';
import { NotFoundError } from '@tributary/common';
import { type DB, type UploadedActivityRow } from '../schema';
import { isUuid } from './pg-errors.util';

export type UploadReservation =
  /** The caller now owns this upload and must complete or release it. */
  | { outcome: 'reserved'; row: UploadedActivityRow }
  /** Uploaded before; the remote id is in `row`. Do not upload again. */
  | { outcome: 'uploaded'; row: UploadedActivityRow }
  /**
   * A reservation exists without completion: an earlier attempt crashed or is still running. Uploading again could
   * duplicate; the caller must look for the activity at the service first, then complete or release.
   */
  | { outcome: 'in_flight'; row: UploadedActivityRow };

/**
 * Per-connection ledgers: which UIDs a connection already has (synchronized_uids) and the upload idempotency
 * ledger (uploaded_activities). Tables hang off connections; every statement joins through the connection's owner.
 */
export class ConnectionLedgerRepository {
  constructor(private readonly db: Kysely<DB>) {}

  private ownedConnection(userId: string, connectionId: string) {
    return this.db.selectFrom('connections').where('id', '=', connectionId).where('user_id', '=', userId);
  }

  private async assertOwned(userId: string, connectionId: string): Promise<void> {
    const row = isUuid(connectionId)
      ? await this.ownedConnection(userId, connectionId).select('id').executeTakeFirst()
      : undefined;
    if (row === undefined) throw new NotFoundError('connection', connectionId);
  }

  /** Adds UIDs to the connection's known set; returns how many were new. */
  async addSynchronizedUids(userId: string, connectionId: string, uids: readonly string[]): Promise<number> {
    const unique = [...new Set(uids)];
    if (unique.length === 0) {
      await this.assertOwned(userId, connectionId);
      return 0;
    }
    if (!isUuid(connectionId)) throw new NotFoundError('connection', connectionId);
    const res = await this.db
      .insertInto('synchronized_uids')
      .columns(['connection_id', 'uid'])
      .expression(
        this.ownedConnection(userId, connectionId).select([
          'id',
          sql<string>`unnest(${sql.val(unique)}::text[])`.as('uid'),
        ]),
      )
      .onConflict((oc) => oc.columns(['connection_id', 'uid']).doNothing())
      .executeTakeFirst();
    const added = Number(res.numInsertedOrUpdatedRows ?? 0n);
    // Zero rows is either "all known already" or "not your connection"; only the rare second case costs a query.
    if (added === 0) await this.assertOwned(userId, connectionId);
    return added;
  }

  /** The subset of `uids` the connection already has. */
  async knownUids(userId: string, connectionId: string, uids: readonly string[]): Promise<Set<string>> {
    if (uids.length === 0 || !isUuid(connectionId)) return new Set();
    const rows = await this.db
      .selectFrom('synchronized_uids as s')
      .innerJoin('connections as c', 'c.id', 's.connection_id')
      .select('s.uid')
      .where('c.user_id', '=', userId)
      .where('s.connection_id', '=', connectionId)
      .where('s.uid', '=', sql<string>`ANY(${sql.val([...uids])}::text[])`)
      .execute();
    return new Set(rows.map((r) => r.uid));
  }

  async countSynchronizedUids(userId: string, connectionId: string): Promise<number> {
    if (!isUuid(connectionId)) return 0;
    const row = await this.db
      .selectFrom('synchronized_uids as s')
      .innerJoin('connections as c', 'c.id', 's.connection_id')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('c.user_id', '=', userId)
      .where('s.connection_id', '=', connectionId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /**
   * Claims the right to upload `uid` to the connection. The unique (connection_id, uid) key makes this atomic: of two
   * racing workers, or a worker re-running after a crash, only one ever gets `reserved`.
   */
  async reserveUpload(
    userId: string,
    connectionId: string,
    uid: string,
    recordId: string | null = null,
  ): Promise<UploadReservation> {
    if (!isUuid(connectionId)) throw new NotFoundError('connection', connectionId);
    const inserted = await this.db
      .insertInto('uploaded_activities')
      .columns(['connection_id', 'uid', 'record_id'])
      .expression(
        this.ownedConnection(userId, connectionId).select([
          'id',
          sql<string>`${uid}::text`.as('uid'),
          sql<string | null>`${recordId}::uuid`.as('record_id'),
        ]),
      )
      .onConflict((oc) => oc.columns(['connection_id', 'uid']).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted !== undefined) return { outcome: 'reserved', row: inserted };
    const existing = await this.findUpload(userId, connectionId, uid);
    if (existing === undefined) throw new NotFoundError('connection', connectionId);
    return { outcome: existing.state === 'uploaded' ? 'uploaded' : 'in_flight', row: existing };
  }

  async completeUpload(userId: string, connectionId: string, uid: string, remoteId: string | null): Promise<void> {
    if (!isUuid(connectionId)) throw new NotFoundError('connection', connectionId);
    const res = await this.db
      .updateTable('uploaded_activities')
      .set({ state: 'uploaded', remote_id: remoteId, uploaded_at: sql<Date>`now()` })
      .where('connection_id', '=', connectionId)
      .where('uid', '=', uid)
      .where('connection_id', 'in', this.ownedConnection(userId, connectionId).select('id'))
      .executeTakeFirst();
    if (res.numUpdatedRows === 0n) throw new NotFoundError('upload reservation', uid);
  }

  /** Drops a reservation after a definite failure (the service rejected it), so a later sync may try again. */
  async releaseUpload(userId: string, connectionId: string, uid: string): Promise<boolean> {
    if (!isUuid(connectionId)) return false;
    const res = await this.db
      .deleteFrom('uploaded_activities')
      .where('connection_id', '=', connectionId)
      .where('uid', '=', uid)
      .where('state', '=', 'reserved')
      .where('connection_id', 'in', this.ownedConnection(userId, connectionId).select('id'))
      .executeTakeFirst();
    return res.numDeletedRows > 0n;
  }

  /**
   * Whether `remoteId` at this connection is a copy the hub uploaded itself: the service's webhook about it (Strava
   * announces every upload) then needs no sync.
   */
  async isOwnUpload(userId: string, connectionId: string, remoteId: string): Promise<boolean> {
    if (!isUuid(connectionId)) return false;
    const row = await this.db
      .selectFrom('uploaded_activities')
      .select('id')
      .where('connection_id', '=', connectionId)
      .where('remote_id', '=', remoteId)
      .where('state', '=', 'uploaded')
      .where('connection_id', 'in', this.ownedConnection(userId, connectionId).select('id'))
      .executeTakeFirst();
    return row !== undefined;
  }

  async findUpload(userId: string, connectionId: string, uid: string): Promise<UploadedActivityRow | undefined> {
    if (!isUuid(connectionId)) return undefined;
    return this.db
      .selectFrom('uploaded_activities')
      .selectAll()
      .where('connection_id', '=', connectionId)
      .where('uid', '=', uid)
      .where('connection_id', 'in', this.ownedConnection(userId, connectionId).select('id'))
      .executeTakeFirst();
  }
}
