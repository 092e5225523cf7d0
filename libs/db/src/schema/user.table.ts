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
  notifications: NotificationSettings;
}

/**
 * What the hub tells a user when their sync is blocked (a reconnect needed, an account full…). Each error group is
 * announced at most once per channel until it resolves. Validate user input with `parseNotificationSettings`.
 */
export interface NotificationSettings {
  /** Master switch: off means no email and no webhook, whatever the flags below say. */
  enabled: boolean;
  /** Where emails go; null = the account's email address (no email is sent when both are missing). */
  email: string | null;
  /** Email about blocking errors other than a needed reconnect (account full, expired, locked…). */
  emailOnBlockingError: boolean;
  /** Email when a service needs the user to reconnect (its authorization was revoked or expired). */
  emailOnReauthNeeded: boolean;
  /** POST a signed JSON event here for every blocking error group; https (http only for localhost). */
  webhookUrl: string | null;
  /** Lets a user keep the URL while pausing deliveries. */
  webhookEnabled: boolean;
}

export const DEFAULT_NOTIFICATION_SETTINGS: NotificationSettings = {
  enabled: true,
  email: null,
  emailOnBlockingError: true,
  emailOnReauthNeeded: true,
  webhookUrl: null,
  webhookEnabled: true,
};

export const DEFAULT_USER_SETTINGS: UserSettings = {
  autoSync: true,
  uploadDelaySeconds: 0,
  skipBefore: null,
  timezoneFallback: null,
  notifications: DEFAULT_NOTIFICATION_SETTINGS,
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
