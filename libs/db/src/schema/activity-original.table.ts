import { type Generated, type Selectable } from 'kysely';
import { type GeneratedTimestamp, type Uuid } from './column.types';

/** The stored file of one activity record (see the CreatedActivityOriginals migration). */
export interface ActivityOriginalTable {
  id: Uuid;
  user_id: string;
  activity_record_id: string;
  /** An ActivityFormat from @tributary/activity. */
  format: string;
  bytes: Uint8Array;
  /** Hex SHA-256 of `bytes`. */
  sha256: string;
  size: number;
  source_connection_id: string | null;
  /** The hub encoded it (FIT) because the source supplied no file. */
  derived: Generated<boolean>;
  created_at: GeneratedTimestamp;
}

export type ActivityOriginalRow = Selectable<ActivityOriginalTable>;
