import {
  DEFAULT_RETRY_POLICY,
  backoffDelay,
  maxAttemptsFor,
  recordFailure,
  retryLimitError,
  retryState,
} from './retry.util';

const MIN = 60_000;
const HOUR = (): number => 60 * MIN;
const NOW = Date.UTC(2024, 5, 1, 12);
const base = { activityKey: 'uid-1', connectionId: 'strava', direction: 'upload' as const, now: NOW };

describe('backoffDelay', () => {
  it.each([
    [0, 0],
    [1, 15 * MIN],
    [2, 30 * MIN],
    [3, 60 * MIN],
    [5, 240 * MIN],
    [20, 24 * 60 * MIN],
  ])('should wait after %p failures %p ms', (count, delay) => {
    expect(backoffDelay(count)).toBe(delay);
  });
});

describe('recordFailure', () => {
  it('should count a failure and schedule the next attempt with exponential backoff', () => {
    const first = recordFailure(undefined, { ...base, message: 'boom' });
    expect(first).toEqual({
      activityKey: 'uid-1',
      connectionId: 'strava',
      direction: 'upload',
      count: 1,
      lastAttemptAt: NOW,
      nextAttemptAt: NOW + 15 * MIN,
      lastError: 'boom',
    });
    const second = recordFailure(first, { ...base, now: NOW + HOUR() });
    expect(second.count).toBe(2);
    expect(second.nextAttemptAt).toBe(NOW + HOUR() + 30 * MIN);
  });

  it('should never count a rate-limit failure, and honour Retry-After', () => {
    const first = recordFailure(undefined, base);
    const limited = recordFailure(first, { ...base, rateLimited: true, retryAfterMs: 90_000 });
    expect(limited.count).toBe(1);
    expect(limited.nextAttemptAt).toBe(NOW + 90_000);
    expect(recordFailure(undefined, { ...base, rateLimited: true }).count).toBe(0);
  });

  it('should not retry before a longer Retry-After on a counted failure', () => {
    expect(recordFailure(undefined, { ...base, retryAfterMs: 3 * HOUR() }).nextAttemptAt).toBe(NOW + 3 * HOUR());
  });
});

describe('retryState', () => {
  it('should be ready without a record, wait during backoff, and stop at the limit', () => {
    expect(retryState(undefined, 'strava', NOW)).toEqual({ state: 'ready' });
    let record = recordFailure(undefined, base);
    expect(retryState(record, 'strava', NOW)).toEqual({ state: 'backoff', until: NOW + 15 * MIN });
    expect(retryState(record, 'strava', NOW + 15 * MIN)).toEqual({ state: 'ready' });
    for (let i = 0; i < 4; i++) record = recordFailure(record, base);
    expect(retryState(record, 'strava', NOW + 10 * HOUR())).toEqual({ state: 'exhausted', count: 5 });
  });

  it('should allow Garmin Connect downloads one more attempt', () => {
    expect(maxAttemptsFor('garmin_connect', 'download')).toBe(6);
    expect(maxAttemptsFor('garmin_connect', 'upload')).toBe(DEFAULT_RETRY_POLICY.maxAttempts);
  });
});

describe('retryLimitError', () => {
  it('should be a blocking activity-scope error that does not force exhaustive syncs', () => {
    let record = recordFailure(undefined, { ...base, message: 'HTTP 500' });
    for (let i = 0; i < 4; i++) record = recordFailure(record, { ...base, message: 'HTTP 500' });
    expect(retryLimitError(record, NOW)).toEqual({
      step: 'upload',
      scope: 'activity',
      type: 'upload',
      blocking: true,
      connectionId: 'strava',
      activityKey: 'uid-1',
      message: 'gave up after 5 failed uploads: HTTP 500',
      triggerExhaustive: false,
      at: NOW,
    });
  });
});
