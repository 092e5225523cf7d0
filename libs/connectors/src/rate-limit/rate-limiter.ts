import { type RateLimitScope } from '../errors/connector.error';

/**
 * One shared budget: `capacity` requests per `windowMs`, refilled continuously (token bucket). `key` names the
 * budget across all workers, e.g. `strava:15m` or `dropbox:user:dbid:123`.
 */
export interface RateBucket {
  key: string;
  capacity: number;
  windowMs: number;
  scope: RateLimitScope;
}

export interface AcquireOptions {
  service: string;
  /** Longest this call may wait for a token before giving up with RateLimitedError. */
  maxWaitMs?: number;
  signal?: AbortSignal;
}

/**
 * Budgets shared by every worker. Connectors call `acquire` before each request (pacing: it waits for a token
 * instead of failing), `observe` with the provider's own usage figures, and `block` when the provider said 429.
 */
export interface RateLimiter {
  acquire(buckets: readonly RateBucket[], options: AcquireOptions): Promise<void>;
  /** The provider reports `remaining` requests left in this bucket's window, which resets in `resetInMs`. */
  observe(bucket: RateBucket, remaining: number, resetInMs?: number): Promise<void>;
  /** Nobody may use these buckets for `delayMs` (a 429 with Retry-After). */
  block(buckets: readonly RateBucket[], delayMs: number): Promise<void>;
}

/** For tests and single-user tools: never waits. */
export class UnlimitedRateLimiter implements RateLimiter {
  readonly acquired: string[][] = [];
  readonly observed: { key: string; remaining: number; resetInMs?: number }[] = [];
  readonly blocked: { keys: string[]; delayMs: number }[] = [];

  acquire(buckets: readonly RateBucket[]): Promise<void> {
    this.acquired.push(buckets.map((b) => b.key));
    return Promise.resolve();
  }

  observe(bucket: RateBucket, remaining: number, resetInMs?: number): Promise<void> {
    this.observed.push({ key: bucket.key, remaining, resetInMs });
    return Promise.resolve();
  }

  block(buckets: readonly RateBucket[], delayMs: number): Promise<void> {
    this.blocked.push({ keys: buckets.map((b) => b.key), delayMs });
    return Promise.resolve();
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
