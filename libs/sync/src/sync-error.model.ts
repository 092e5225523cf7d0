/*
 * Errors and exclusions as plain data (libs/db persists them, the web app shows them). An error belongs to a step and a
 * scope; a blocking one stops that scope until it is cleared (by the user or by reconnecting). An exclusion says one
 * activity is not handled at one connection: permanently (bad data) or until the next sync (still recording).
 */

export type SyncStep = 'list' | 'download' | 'upload';

/** account: the whole user's sync stops; connection: that connection sits out; activity: one activity × connection. */
export type ErrorScope = 'account' | 'connection' | 'activity';

/** What the user must do to unblock, grouped so one "it's fixed" button clears every error of a group. */
export type InterventionGroup =
  'reauth' | 'account_full' | 'account_expired' | 'account_locked' | 'upload_consent' | 'account_type';

/** Failure kinds a connector reports (tapiriik's UserException types, plus `ratelimited`). */
export type UserExceptionType =
  | 'auth'
  | 'renew_password'
  | 'locked'
  | 'full'
  | 'expired'
  | 'unpaid'
  | 'non_athlete_account'
  | 'upload_consent'
  | 'ratelimited'
  | 'data_insufficient'
  | 'download'
  | 'upload'
  | 'corrupt'
  | 'sanity'
  | 'untagged'
  | 'live'
  | 'tz_unknown'
  | 'system'
  | 'other';

export interface UserExceptionRule {
  scope: ErrorScope;
  blocking: boolean;
  /** The user must act; the error is shown with the group's call to action. */
  intervention?: InterventionGroup;
  /** The activity is excluded instead of retried. */
  exclude?: 'permanent' | 'until_next_sync';
}

/**
 * How each kind of failure is treated. Account-level problems block their connection until the user acts (they would
 * fail the same way for every activity); activity-level ones are retried with backoff up to the retry limit.
 */
export const USER_EXCEPTION_RULES: Readonly<Record<UserExceptionType, UserExceptionRule>> = {
  auth: { scope: 'connection', blocking: true, intervention: 'reauth' },
  renew_password: { scope: 'connection', blocking: true, intervention: 'reauth' },
  locked: { scope: 'connection', blocking: true, intervention: 'account_locked' },
  full: { scope: 'connection', blocking: true, intervention: 'account_full' },
  expired: { scope: 'connection', blocking: true, intervention: 'account_expired' },
  unpaid: { scope: 'connection', blocking: true, intervention: 'account_expired' },
  non_athlete_account: { scope: 'connection', blocking: true, intervention: 'account_type' },
  upload_consent: { scope: 'connection', blocking: true, intervention: 'upload_consent' },
  ratelimited: { scope: 'connection', blocking: false },
  data_insufficient: { scope: 'activity', blocking: false, exclude: 'permanent' },
  download: { scope: 'activity', blocking: false },
  upload: { scope: 'activity', blocking: false },
  corrupt: { scope: 'activity', blocking: false, exclude: 'permanent' },
  sanity: { scope: 'activity', blocking: false, exclude: 'permanent' },
  untagged: { scope: 'activity', blocking: false, exclude: 'permanent' },
  live: { scope: 'activity', blocking: false, exclude: 'until_next_sync' },
  tz_unknown: { scope: 'activity', blocking: false, exclude: 'until_next_sync' },
  system: { scope: 'activity', blocking: false },
  other: { scope: 'activity', blocking: false },
};

/** Reconnecting a service clears these groups (and schedules an exhaustive sync). */
export const CLEARED_BY_RECONNECT: ReadonlySet<InterventionGroup> = new Set<InterventionGroup>(['reauth']);

export interface SyncErrorRecord {
  step: SyncStep;
  scope: ErrorScope;
  type: UserExceptionType;
  blocking: boolean;
  intervention?: InterventionGroup;
  /** Absent for account scope. */
  connectionId?: string;
  /** An activity key (UID or external id) for activity scope. */
  activityKey?: string;
  message: string;
  /** The next sync lists everything again so nothing is missed while blocked. */
  triggerExhaustive: boolean;
  at: number;
}

export interface ExclusionRecord {
  connectionId: string;
  /** UID or external id of the activity. */
  activityKey: string;
  reason: UserExceptionType;
  permanent: boolean;
  message?: string;
  at: number;
}

/** Builds an error record from a failure kind, applying USER_EXCEPTION_RULES. */
export function makeSyncError(input: {
  step: SyncStep;
  type: UserExceptionType;
  message: string;
  at: number;
  connectionId?: string;
  activityKey?: string;
  /** Overrides the rule's scope, e.g. an auth failure of the whole account. */
  scope?: ErrorScope;
}): SyncErrorRecord {
  const rule = USER_EXCEPTION_RULES[input.type];
  const record: SyncErrorRecord = {
    step: input.step,
    scope: input.scope ?? rule.scope,
    type: input.type,
    blocking: rule.blocking,
    message: input.message,
    triggerExhaustive: rule.blocking,
    at: input.at,
  };
  if (rule.intervention !== undefined) record.intervention = rule.intervention;
  if (input.connectionId !== undefined) record.connectionId = input.connectionId;
  if (input.activityKey !== undefined) record.activityKey = input.activityKey;
  return record;
}

/** An exclusion for a failure kind whose rule excludes, otherwise undefined (the failure is retried instead). */
export function makeExclusion(input: {
  connectionId: string;
  activityKey: string;
  type: UserExceptionType;
  at: number;
  message?: string;
}): ExclusionRecord | undefined {
  const rule = USER_EXCEPTION_RULES[input.type];
  if (rule.exclude === undefined) return undefined;
  const record: ExclusionRecord = {
    connectionId: input.connectionId,
    activityKey: input.activityKey,
    reason: input.type,
    permanent: rule.exclude === 'permanent',
    at: input.at,
  };
  if (input.message !== undefined) record.message = input.message;
  return record;
}

/**
 * What survives into the next sync (§2.3 step 3): blocking errors and permanent exclusions. Everything else was
 * about this sync only and is re-evaluated.
 */
export function carryOverToNextSync(
  errors: readonly SyncErrorRecord[],
  exclusions: readonly ExclusionRecord[],
): { errors: SyncErrorRecord[]; exclusions: ExclusionRecord[] } {
  return { errors: errors.filter((e) => e.blocking), exclusions: exclusions.filter((x) => x.permanent) };
}

/** The user pressed "it's fixed" for a group on a connection. */
export function clearInterventionGroup(
  errors: readonly SyncErrorRecord[],
  connectionId: string,
  group: InterventionGroup,
): SyncErrorRecord[] {
  return errors.filter((e) => !(e.connectionId === connectionId && e.intervention === group));
}

/** Reconnecting a service removes its re-auth errors. */
export function clearOnReconnect(errors: readonly SyncErrorRecord[], connectionId: string): SyncErrorRecord[] {
  return errors.filter(
    (e) =>
      !(e.connectionId === connectionId && e.intervention !== undefined && CLEARED_BY_RECONNECT.has(e.intervention)),
  );
}

/** The sync cannot run at all: a blocking account-scope error. */
export function isAccountBlocked(errors: readonly SyncErrorRecord[]): boolean {
  return errors.some((e) => e.blocking && e.scope === 'account');
}

/** Connections that sit this sync out because of a blocking connection-scope error. */
export function blockedConnections(errors: readonly SyncErrorRecord[]): Set<string> {
  const out = new Set<string>();
  for (const e of errors)
    if (e.blocking && e.scope === 'connection' && e.connectionId !== undefined) out.add(e.connectionId);
  return out;
}

/** Whether the next sync must be exhaustive because a persisted blocking error asked for it. */
export function needsExhaustiveSync(errors: readonly SyncErrorRecord[]): boolean {
  return errors.some((e) => e.blocking && e.triggerExhaustive);
}

/** Exclusions indexed by connection then activity key, for planning. */
export function indexExclusions(exclusions: readonly ExclusionRecord[]): Map<string, Map<string, ExclusionRecord>> {
  const out = new Map<string, Map<string, ExclusionRecord>>();
  for (const x of exclusions) {
    let byKey = out.get(x.connectionId);
    if (byKey === undefined) out.set(x.connectionId, (byKey = new Map<string, ExclusionRecord>()));
    byKey.set(x.activityKey, x);
  }
  return out;
}
