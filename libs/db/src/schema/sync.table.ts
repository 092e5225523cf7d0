import { type ColumnType, type Generated, type Insertable, type Selectable } from 'kysely';
import { type GeneratedJson, type GeneratedTimestamp, type Timestamp, type Uuid } from './column.types';

/** UIDs a connection is known to have (listed there or uploaded there): never upload these to it again. */
export interface SynchronizedUidTable {
  connection_id: string;
  uid: string;
  created_at: GeneratedTimestamp;
}

export type UploadState = 'reserved' | 'uploaded';

/**
 * Idempotency ledger for uploads: a row is reserved before calling the service and completed with the remote id
 * after. UNIQUE(connection_id, uid) means a re-run after a crash finds the reservation instead of uploading twice.
 */
export interface UploadedActivityTable {
  id: Uuid;
  connection_id: string;
  uid: string;
  record_id: string | null;
  state: ColumnType<UploadState, UploadState | undefined, UploadState>;
  remote_id: string | null;
  reserved_at: GeneratedTimestamp;
  uploaded_at: Timestamp | null;
}

export type SyncRunStatus = 'queued' | 'running' | 'succeeded' | 'partial' | 'failed';
export const ACTIVE_SYNC_RUN_STATUSES: readonly SyncRunStatus[] = ['queued', 'running'];
export type SyncTrigger = 'schedule' | 'manual' | 'webhook' | 'connect' | 'admin' | 'retry';

export interface SyncRunCounts {
  listed?: number;
  uploaded?: number;
  skipped?: number;
  failed?: number;
  [key: string]: number | undefined;
}

export interface SyncRunErrorEntry {
  code: string;
  message: string;
  connectionId?: string;
  activityUid?: string;
}

/** One sync of one user; the UI and the watchdog read it. At most one queued-or-running run per user. */
export interface SyncRunTable {
  id: Uuid;
  user_id: string;
  status: ColumnType<SyncRunStatus, SyncRunStatus | undefined, SyncRunStatus>;
  exhaustive: Generated<boolean>;
  trigger: SyncTrigger;
  /** 0..1 */
  progress: Generated<number>;
  phase: string | null;
  counts: GeneratedJson<SyncRunCounts>;
  errors: GeneratedJson<SyncRunErrorEntry[]>;
  worker_id: string | null;
  queued_at: GeneratedTimestamp;
  started_at: Timestamp | null;
  heartbeat_at: Timestamp | null;
  finished_at: Timestamp | null;
}

export type SyncErrorScope = 'account' | 'connection' | 'activity';
export type SyncStep = 'list' | 'download' | 'upload';

/** A persisted sync error, deduplicated by (user, connection, scope, code, activity) with a count. */
export interface SyncErrorTable {
  id: Uuid;
  user_id: string;
  connection_id: string | null;
  scope: SyncErrorScope;
  step: SyncStep | null;
  code: string;
  /** Errors that one user action clears together (tapiriik ClearGroup), e.g. `full`, `expired`. */
  clear_group: string | null;
  message: string;
  /** Blocks the connection/activity (scope) until cleared or resolved. */
  blocking: Generated<boolean>;
  /** What the user must do, when something must be done. */
  intervention: string | null;
  trigger_exhaustive: Generated<boolean>;
  activity_uid: string | null;
  first_at: GeneratedTimestamp;
  last_at: GeneratedTimestamp;
  count: Generated<number>;
  cleared_at: Timestamp | null;
}

/** An activity (by UID or external id) a connection must not take part in, for now or for good. */
export interface ExclusionTable {
  id: Uuid;
  connection_id: string;
  key: string;
  permanent: Generated<boolean>;
  reason: string;
  message: string | null;
  effective_at: GeneratedTimestamp;
  /** Non-permanent exclusions lapse; null = until cleared. */
  expires_at: Timestamp | null;
}

/** "Do not send activities from source to target." Both connections belong to `user_id`. */
export interface FlowExceptionTable {
  id: Uuid;
  user_id: string;
  source_connection_id: string;
  target_connection_id: string;
  created_at: GeneratedTimestamp;
}

export type SynchronizedUidRow = Selectable<SynchronizedUidTable>;
export type UploadedActivityRow = Selectable<UploadedActivityTable>;
export type SyncRunRow = Selectable<SyncRunTable>;
export type NewSyncRunRow = Insertable<SyncRunTable>;
export type SyncErrorRow = Selectable<SyncErrorTable>;
export type ExclusionRow = Selectable<ExclusionTable>;
export type FlowExceptionRow = Selectable<FlowExceptionTable>;
