import { type ColumnType, type Insertable, type Selectable } from 'kysely';
import { type GeneratedTimestamp, type Timestamp, type Uuid } from './column.types';

export type NotificationChannel = 'email' | 'webhook';

/**
 * pending: claimed, not delivered yet (a retryable failure leaves it here with last_error); sent: delivered;
 * failed: refused for good (4xx, invalid address), never retried for this occurrence of the group.
 */
export type NotificationStatus = 'pending' | 'sent' | 'failed';

/**
 * One row per user × error group × channel while the group is open: the unique key is what makes a group notify at
 * most once. The row is deleted when the group resolves, so a recurrence notifies again.
 */
export interface NotificationLogTable {
  id: Uuid;
  user_id: string;
  /** `<intervention or code>-<connection id or "account">`, see notificationGroupKey. */
  group_key: string;
  channel: NotificationChannel;
  status: ColumnType<NotificationStatus, NotificationStatus | undefined, NotificationStatus>;
  attempts: ColumnType<number, number | undefined, number>;
  last_error: string | null;
  created_at: GeneratedTimestamp;
  sent_at: Timestamp | null;
}

export type NotificationLogRow = Selectable<NotificationLogTable>;
export type NewNotificationLogRow = Insertable<NotificationLogTable>;

/** A user's webhook signing secret, encrypted with the credentials keyring; one row per user. */
export interface NotificationSecretTable {
  user_id: string;
  secret_ciphertext: string;
  key_id: string;
  created_at: GeneratedTimestamp;
}

export type NotificationSecretRow = Selectable<NotificationSecretTable>;
