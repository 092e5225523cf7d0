import { type SyncErrorRow } from '@tributary/db';

/** One thing the user must fix: the open blocking errors of one intervention group on one connection. */
export interface BlockingGroup {
  /** `<group>-<connection id>`, or `<group>-account` for account-wide errors; the job id and log key. */
  key: string;
  /** The intervention group (`reauth`, `account_full`…), or the error code when the error names none. */
  group: string;
  connectionId: string | null;
  /** The newest error of the group: its message is the most current description of the problem. */
  message: string;
  /** When the group first occurred (its oldest open error). */
  occurredAt: Date;
}

/** BullMQ job ids may not contain ':'; groups and codes are snake_case and ids uuids, so '-' separates safely. */
const GROUP_KEY = /^([a-z][a-z0-9_]{0,63})-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|account)$/;

export function notificationGroupKey(group: string, connectionId: string | null): string {
  return `${group}-${connectionId ?? 'account'}`;
}

export function isNotificationGroupKey(value: string): boolean {
  return GROUP_KEY.test(value);
}

/**
 * The blocking error groups a user is told about. Activity-scope blocking errors (one activity gave up after its
 * retries) are left out: they are listed on the dashboard, but an email per activity would be noise, and they ask
 * nothing of the user's account. Connection- and account-scope ones stop syncing until the user acts.
 */
export function blockingGroups(errors: readonly SyncErrorRow[]): BlockingGroup[] {
  const byKey = new Map<string, { group: BlockingGroup; newest: number }>();
  for (const e of errors) {
    if (!e.blocking || e.cleared_at !== null || e.scope === 'activity') continue;
    const group = e.intervention ?? e.code;
    const key = notificationGroupKey(group, e.connection_id);
    if (!isNotificationGroupKey(key)) continue;
    const first = new Date(e.first_at);
    const last = new Date(e.last_at).getTime();
    const seen = byKey.get(key);
    if (seen === undefined) {
      byKey.set(key, {
        group: { key, group, connectionId: e.connection_id, message: e.message, occurredAt: first },
        newest: last,
      });
      continue;
    }
    if (first < seen.group.occurredAt) seen.group.occurredAt = first;
    if (last > seen.newest) {
      seen.group.message = e.message;
      seen.newest = last;
    }
  }
  return [...byKey.values()].map((v) => v.group).sort((a, b) => a.key.localeCompare(b.key));
}
