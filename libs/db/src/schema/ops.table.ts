import { type Generated, type Selectable } from 'kysely';
import { type GeneratedJson, type GeneratedTimestamp } from './column.types';

/** A time series point for the stats page and metrics (users, connections, synced distance…). */
export interface StatsSampleTable {
  id: Generated<string>;
  metric: string;
  ts: GeneratedTimestamp;
  value: number;
  labels: GeneratedJson<Record<string, string>>;
}

/** What an administrator did, to whom. */
export interface AuditLogTable {
  id: Generated<string>;
  at: GeneratedTimestamp;
  actor_user_id: string | null;
  action: string;
  target_user_id: string | null;
  details: GeneratedJson<Record<string, unknown>>;
}

export type StatsSampleRow = Selectable<StatsSampleTable>;
export type AuditLogRow = Selectable<AuditLogTable>;
