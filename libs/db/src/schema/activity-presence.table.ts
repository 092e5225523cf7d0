import { type ColumnType, type Generated, type Insertable, type Selectable } from 'kysely';
import { type Timestamp } from './column.types';

/** Where an activity stands at one connection. */
export type PresenceState = 'present' | 'missing' | 'pending' | 'excluded' | 'failed';
export const PRESENCE_STATES: readonly PresenceState[] = ['present', 'missing', 'pending', 'excluded', 'failed'];

export interface ActivityPresenceTable {
  record_id: string;
  connection_id: string;
  /** Denormalised owner: composite foreign keys make record and connection belong to the same user. */
  user_id: string;
  state: PresenceState;
  remote_id: string | null;
  /** Why it is not present: a reason code (`flow`, `stationary`, `type_unsupported`, `deferred`…). */
  reason_code: string | null;
  reason_detail: string | null;
  failure_count: Generated<number>;
  next_attempt_at: Timestamp | null;
  uploaded_at: Timestamp | null;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export type ActivityPresenceRow = Selectable<ActivityPresenceTable>;
export type NewActivityPresenceRow = Insertable<ActivityPresenceTable>;
