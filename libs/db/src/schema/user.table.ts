import { type ColumnType, type Generated, type Insertable, type Selectable, type Updateable } from 'kysely';
import { type GeneratedJson, type GeneratedTimestamp, type Timestamp, type Uuid } from './column.types';

export type UserRole = 'user' | 'admin';

/** Per-user sync preferences (tapiriik's sync_* config). Stored whole as JSONB; missing keys take the defaults. */
export interface UserSettings {
  /** Sync on a schedule; off means only "Sync now" and webhooks. */
  autoSync: boolean;
  /** Activities that ended less than this long ago wait (0 = upload at once). */
  uploadDelaySeconds: number;
  /** Activities starting before this instant (ISO 8601) are never synced; null = no window. */
  skipBefore: string | null;
  /** IANA zone used when an activity has no zone and no coordinates; null = guess from other activities. */
  timezoneFallback: string | null;
  notifications: { emailOnBlockingError: boolean; emailOnReauthNeeded: boolean };
}

export const DEFAULT_USER_SETTINGS: UserSettings = {
  autoSync: true,
  uploadDelaySeconds: 0,
  skipBefore: null,
  timezoneFallback: null,
  notifications: { emailOnBlockingError: true, emailOnReauthNeeded: true },
};

export interface UserTable {
  id: Uuid;
  created_at: GeneratedTimestamp;
  role: ColumnType<UserRole, UserRole | undefined, UserRole>;
  email: string | null;
  password_hash: string | null;
  settings: GeneratedJson<Partial<UserSettings>>;
  /** Which worker holds the per-user sync lease, and until when; see UserRepository.acquireLease. */
  lease_owner: string | null;
  lease_expires_at: Timestamp | null;
  next_sync_at: Timestamp | null;
  last_sync_at: Timestamp | null;
  next_sync_exhaustive: Generated<boolean>;
}

export type UserRow = Selectable<UserTable>;
export type NewUserRow = Insertable<UserTable>;
export type UserUpdate = Updateable<UserTable>;
