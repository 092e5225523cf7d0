import { type ActivityOriginalTable } from './activity-original.table';
import { type ActivityPresenceTable } from './activity-presence.table';
import { type ActivityRecordTable } from './activity-record.table';
import { type ConnectionTable } from './connection.table';
import { type NotificationLogTable, type NotificationSecretTable } from './notification.table';
import { type AuditLogTable, type StatsSampleTable } from './ops.table';
import { type SessionTable } from './session.table';
import {
  type ExclusionTable,
  type FlowExceptionTable,
  type SyncErrorTable,
  type SyncRunTable,
  type SynchronizedUidTable,
  type UploadedActivityTable,
} from './sync.table';
import { type UserTable } from './user.table';

/** The whole schema as Kysely sees it; keep in step with the migrations. */
export interface DB {
  users: UserTable;
  connections: ConnectionTable;
  activity_records: ActivityRecordTable;
  activity_presence: ActivityPresenceTable;
  activity_originals: ActivityOriginalTable;
  synchronized_uids: SynchronizedUidTable;
  uploaded_activities: UploadedActivityTable;
  sync_runs: SyncRunTable;
  sync_errors: SyncErrorTable;
  exclusions: ExclusionTable;
  flow_exceptions: FlowExceptionTable;
  stats_samples: StatsSampleTable;
  audit_log: AuditLogTable;
  sessions: SessionTable;
  notification_log: NotificationLogTable;
  notification_secrets: NotificationSecretTable;
}
