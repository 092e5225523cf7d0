import { type ColumnType, type Generated, type Insertable, type Selectable, type Updateable } from 'kysely';
import { type GeneratedJson, type GeneratedTimestamp, type Timestamp, type Uuid } from './column.types';

export type ConnectionStatus = 'ok' | 'needs_reauth' | 'disabled' | 'error';
export const CONNECTION_STATUSES: readonly ConnectionStatus[] = ['ok', 'needs_reauth', 'disabled', 'error'];

/** One connected account at one service. A user has at most one per service; an account belongs to one user. */
export interface ConnectionTable {
  id: Uuid;
  user_id: string;
  /** Canonical connector id: `strava`, `garmin_connect`, `dropbox`, `local_folder`. */
  service: string;
  /** The account id at the service (athlete id, Dropbox account id, folder path…). */
  external_user_id: string;
  display_name: string | null;
  /** Encrypted credential document (`v1:<keyId>:…`, see @tributary/common crypto). Never stored in clear. */
  credentials_ciphertext: string | null;
  /** The key id inside the ciphertext, duplicated so rotation can find rows not yet under the current key. */
  credentials_key_id: string | null;
  /** Per-connection settings (sync_private, Dropbox root and file format…). */
  config: GeneratedJson<Record<string, unknown>>;
  status: ColumnType<ConnectionStatus, ConnectionStatus | undefined, ConnectionStatus>;
  /** Set by a webhook or poll: the next partial sync must list this connection. */
  trigger_partial_sync: Generated<boolean>;
  /** When the trigger was last raised (database clock); a sync that started before it leaves the trigger set. */
  trigger_partial_sync_at: Timestamp | null;
  last_listed_at: Timestamp | null;
  created_at: GeneratedTimestamp;
  updated_at: GeneratedTimestamp;
}

export type ConnectionRow = Selectable<ConnectionTable>;
export type NewConnectionRow = Insertable<ConnectionTable>;
export type ConnectionUpdate = Updateable<ConnectionTable>;
