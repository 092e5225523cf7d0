import { type Generated, type Insertable, type Selectable, type Updateable } from 'kysely';
import { type GeneratedJson, type GeneratedTimestamp, type Timestamp, type Uuid } from './column.types';

/** What the hub knows about one activity of one user, across all of that user's connections. */
export interface ActivityRecordTable {
  id: Uuid;
  user_id: string;
  /** Primary UID: the hash of the local wall-clock start (tapiriik's CalculateUID). */
  uid: string;
  /** Every UID this activity has been seen under (merged on coalescing); contains `uid`. */
  uids: string[];
  /** `service:id` of the copies at each service. */
  external_ids: Generated<string[]>;
  start_at: Timestamp;
  end_at: Timestamp | null;
  timezone: string | null;
  /** An ActivityType from @tributary/activity. */
  type: string;
  name: string | null;
  /** Metres. */
  distance: number | null;
  private: Generated<boolean>;
  stationary: boolean | null;
  /** Summary statistics for the UI (ActivityStats shape). */
  summary: GeneratedJson<Record<string, unknown>>;
  /** Last time any listing saw it; an exhaustive sync drops records not seen. */
  seen_at: GeneratedTimestamp;
  created_at: GeneratedTimestamp;
  updated_at: GeneratedTimestamp;
}

export type ActivityRecordRow = Selectable<ActivityRecordTable>;
export type NewActivityRecordRow = Insertable<ActivityRecordTable>;
export type ActivityRecordUpdate = Updateable<ActivityRecordTable>;
