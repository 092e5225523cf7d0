import { createHash } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { NotFoundError } from '@tributary/common';
import { type ActivityOriginalRow, type DB } from '../schema';
import { isForeignKeyViolation, isUuid } from './pg-errors.util';

export interface ActivityOriginalInput {
  /** An ActivityFormat (`fit`, `tcx`, `gpx`, `pwx`). */
  format: string;
  bytes: Uint8Array;
  sourceConnectionId?: string | null;
  /** The hub encoded the file itself because the source had none. */
  derived?: boolean;
}

/** A stored original without its bytes, for listings. */
export type ActivityOriginalMeta = Omit<ActivityOriginalRow, 'bytes'>;

const META_COLUMNS = [
  'id',
  'user_id',
  'activity_record_id',
  'format',
  'sha256',
  'size',
  'source_connection_id',
  'derived',
  'created_at',
] as const;

/** The file each activity record came from (one per record). */
export class ActivityOriginalRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /**
   * Stores the record's original. The first real file wins: a later file replaces the stored one only when the
   * stored one is derived (the hub's own encoding) and the new one is not, so re-syncs never churn the bytes.
   * Returns what is stored afterwards. A record or connection of another user is NotFoundError (composite FKs).
   */
  async put(userId: string, recordId: string, input: ActivityOriginalInput): Promise<ActivityOriginalMeta> {
    if (!isUuid(recordId)) throw new NotFoundError('activity', recordId);
    if (typeof input.sourceConnectionId === 'string' && !isUuid(input.sourceConnectionId)) {
      throw new NotFoundError('connection', input.sourceConnectionId);
    }
    const bytes = Buffer.from(input.bytes.buffer, input.bytes.byteOffset, input.bytes.byteLength);
    const derived = input.derived ?? false;
    try {
      const written = await this.db
        .insertInto('activity_originals')
        .values({
          user_id: userId,
          activity_record_id: recordId,
          format: input.format,
          bytes,
          sha256: createHash('sha256').update(bytes).digest('hex'),
          size: bytes.byteLength,
          source_connection_id: input.sourceConnectionId ?? null,
          derived,
        })
        .onConflict((oc) =>
          oc
            .constraint('activity_originals_record_key')
            .doUpdateSet((eb) => ({
              format: eb.ref('excluded.format'),
              bytes: eb.ref('excluded.bytes'),
              sha256: eb.ref('excluded.sha256'),
              size: eb.ref('excluded.size'),
              source_connection_id: eb.ref('excluded.source_connection_id'),
              derived: eb.ref('excluded.derived'),
              created_at: sql<Date>`now()`,
            }))
            .where('activity_originals.user_id', '=', userId)
            .where('activity_originals.derived', '=', true)
            .where(sql<boolean>`NOT excluded.derived`),
        )
        .returning(META_COLUMNS)
        .executeTakeFirst();
      if (written !== undefined) return written;
    } catch (err) {
      if (isForeignKeyViolation(err)) throw new NotFoundError('activity or connection');
      throw err;
    }
    const kept = await this.find(userId, recordId);
    // The conflicting row belongs to the record, and the record (FK) to this user; absent only if deleted meanwhile.
    if (kept === undefined) throw new NotFoundError('activity', recordId);
    return kept;
  }

  /** Metadata of the record's original, if stored. */
  async find(userId: string, recordId: string): Promise<ActivityOriginalMeta | undefined> {
    if (!isUuid(recordId)) return undefined;
    return this.db
      .selectFrom('activity_originals')
      .select(META_COLUMNS)
      .where('user_id', '=', userId)
      .where('activity_record_id', '=', recordId)
      .executeTakeFirst();
  }

  /** The record's original with its bytes, if stored. */
  async get(userId: string, recordId: string): Promise<ActivityOriginalRow | undefined> {
    if (!isUuid(recordId)) return undefined;
    const row = await this.db
      .selectFrom('activity_originals')
      .selectAll()
      .where('user_id', '=', userId)
      .where('activity_record_id', '=', recordId)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    // pg hands bytea out as a Buffer; callers get a plain view of the same memory.
    return { ...row, bytes: new Uint8Array(row.bytes.buffer, row.bytes.byteOffset, row.bytes.byteLength) };
  }

  async has(userId: string, recordId: string): Promise<boolean> {
    return (await this.find(userId, recordId)) !== undefined;
  }

  /** Every stored original of the user (no bytes), oldest record first. */
  async list(userId: string): Promise<ActivityOriginalMeta[]> {
    return this.db
      .selectFrom('activity_originals')
      .select(META_COLUMNS)
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  }

  /** Drops the stored file (the record stays); the next request fetches it from a source again. */
  async remove(userId: string, recordId: string): Promise<boolean> {
    if (!isUuid(recordId)) return false;
    const res = await this.db
      .deleteFrom('activity_originals')
      .where('user_id', '=', userId)
      .where('activity_record_id', '=', recordId)
      .executeTakeFirst();
    return res.numDeletedRows > 0n;
  }
}
