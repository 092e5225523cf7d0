import { type SyncErrorRecord } from './sync-error.model';
import { type ServiceId } from './sync.types';

export type TransferDirection = 'download' | 'upload';

/** Failures of one activity at one connection in one direction. */
export interface FailureRecord {
  /** The activity's primary key (UID, else an external id). */
  activityKey: string;
  connectionId: string;
  direction: TransferDirection;
  /** Failures that counted (rate limits never count). */
  count: number;
  lastAttemptAt: number;
  /** Do not try before this instant. */
  nextAttemptAt: number;
  lastError?: string;
}

export interface RetryPolicy {
  /** After this many counted failures the activity is given up at that connection (a blocking activity error). */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Per-service, per-direction limits (tapiriik: Garmin Connect downloads get 6). */
  maxAttemptsOverrides?: Readonly<Record<ServiceId, Partial<Record<TransferDirection, number>>>>;
}

/** 5 attempts as tapiriik, but spaced 15 min, 30 min, 1 h, 2 h … (capped at a day) instead of once per sync. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 15 * 60_000,
  maxDelayMs: 24 * 3_600_000,
  maxAttemptsOverrides: { garmin_connect: { download: 6 } },
};

export function maxAttemptsFor(
  service: ServiceId,
  direction: TransferDirection,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
): number {
  return policy.maxAttemptsOverrides?.[service]?.[direction] ?? policy.maxAttempts;
}

/** Exponential backoff after `count` counted failures: base × 2^(count−1), capped. */
export function backoffDelay(count: number, policy: RetryPolicy = DEFAULT_RETRY_POLICY): number {
  if (count <= 0) return 0;
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(count - 1, 30));
}

export interface FailureInput {
  activityKey: string;
  connectionId: string;
  direction: TransferDirection;
  now: number;
  /** A rate-limit failure: waits (Retry-After when given) but never counts toward the limit. */
  rateLimited?: boolean;
  retryAfterMs?: number;
  message?: string;
}

/** The record after one more failure, with its `nextAttemptAt`. */
export function recordFailure(
  previous: FailureRecord | undefined,
  input: FailureInput,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
): FailureRecord {
  const prevCount = previous?.count ?? 0;
  const count = input.rateLimited === true ? prevCount : prevCount + 1;
  // A rate limit says nothing about the activity: wait what the service asked (or one base step), no growth.
  const delay =
    input.rateLimited === true
      ? (input.retryAfterMs ?? policy.baseDelayMs)
      : Math.max(input.retryAfterMs ?? 0, backoffDelay(count, policy));
  const record: FailureRecord = {
    activityKey: input.activityKey,
    connectionId: input.connectionId,
    direction: input.direction,
    count,
    lastAttemptAt: input.now,
    nextAttemptAt: input.now + delay,
  };
  if (input.message !== undefined) record.lastError = input.message;
  return record;
}

export type RetryState =
  { state: 'ready' } | { state: 'backoff'; until: number } | { state: 'exhausted'; count: number };

/** Whether an activity may be tried at a connection now. */
export function retryState(
  record: FailureRecord | undefined,
  service: ServiceId,
  now: number,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
): RetryState {
  if (record === undefined) return { state: 'ready' };
  if (record.count >= maxAttemptsFor(service, record.direction, policy))
    return { state: 'exhausted', count: record.count };
  if (record.nextAttemptAt > now) return { state: 'backoff', until: record.nextAttemptAt };
  return { state: 'ready' };
}

/** Key for a failure record map. */
export function failureKey(activityKey: string, connectionId: string, direction: TransferDirection): string {
  return `${direction}\u0000${connectionId}\u0000${activityKey}`;
}

/**
 * The blocking activity-scope error recorded once an activity exhausted its attempts at a connection (shown to the
 * user; "resync this activity" clears it). Unlike tapiriik it does not force every later sync to be exhaustive.
 */
export function retryLimitError(record: FailureRecord, at: number): SyncErrorRecord {
  return {
    step: record.direction,
    scope: 'activity',
    type: record.direction,
    blocking: true,
    connectionId: record.connectionId,
    activityKey: record.activityKey,
    message: `gave up after ${record.count} failed ${record.direction}s${record.lastError === undefined ? '' : `: ${record.lastError}`}`,
    triggerExhaustive: false,
    at,
  };
}
