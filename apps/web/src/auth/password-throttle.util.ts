/** Failed logins allowed per key inside one window before further attempts are refused until the window ends. */
export interface PasswordThrottleOptions {
  maxFailures: number;
  windowMs: number;
  /** Bounds memory under a flood of distinct keys; the oldest windows are forgotten first. */
  maxKeys?: number;
  now?: () => number;
}

interface Window {
  startedAt: number;
  failures: number;
}

/**
 * Counts failed password logins per key (the email, and the client address) in fixed windows. Kept in memory per web
 * process: an attacker spreading guesses over N replicas gets N times the budget, which still stops brute force, and
 * the throttle needs no shared store. Successful logins reset the email's count.
 */
export class PasswordThrottle {
  private readonly windows = new Map<string, Window>();
  private readonly now: () => number;
  private readonly maxKeys: number;

  constructor(private readonly options: PasswordThrottleOptions) {
    this.now = options.now ?? Date.now;
    this.maxKeys = options.maxKeys ?? 100_000;
  }

  /** Seconds until another attempt is allowed for any of the keys; 0 = allowed now. */
  retryAfterSeconds(keys: readonly string[]): number {
    const now = this.now();
    let wait = 0;
    for (const key of keys) {
      const w = this.windows.get(key);
      if (w === undefined) continue;
      const endsAt = w.startedAt + this.options.windowMs;
      if (endsAt <= now) {
        this.windows.delete(key);
        continue;
      }
      if (w.failures >= this.options.maxFailures) wait = Math.max(wait, Math.ceil((endsAt - now) / 1000));
    }
    return wait;
  }

  recordFailure(keys: readonly string[]): void {
    const now = this.now();
    for (const key of keys) {
      const w = this.windows.get(key);
      if (w === undefined || w.startedAt + this.options.windowMs <= now) {
        this.windows.delete(key);
        this.windows.set(key, { startedAt: now, failures: 1 });
      } else {
        w.failures += 1;
      }
    }
    while (this.windows.size > this.maxKeys) {
      const oldest = this.windows.keys().next().value;
      if (oldest === undefined) break;
      this.windows.delete(oldest);
    }
  }

  reset(key: string): void {
    this.windows.delete(key);
  }
}
