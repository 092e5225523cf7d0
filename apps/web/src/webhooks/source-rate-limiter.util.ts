export interface RateWindow {
  /** Requests allowed per source within one window. */
  max: number;
  windowMs: number;
}

/** Strava sends every athlete's events from a few addresses, so the limit is per source and generous. */
export const DEFAULT_WEBHOOK_RATE_WINDOW: RateWindow = { max: 600, windowMs: 60_000 };

/** Sources remembered at most; older windows are dropped first when a flood of addresses arrives. */
const MAX_TRACKED_SOURCES = 10_000;

/**
 * Fixed-window request counter per source, in memory. Each web pod limits on its own: it guards against one noisy
 * or hostile sender, not a cluster-wide budget (unauthenticated Strava POSTs are cheap to send).
 */
export class SourceRateLimiter {
  private readonly windows = new Map<string, { startedAt: number; count: number }>();

  constructor(private readonly limit: RateWindow = DEFAULT_WEBHOOK_RATE_WINDOW) {}

  /** Counts one request; `retryAfterMs` is set when it is over the limit. */
  take(source: string, now: number): { allowed: boolean; retryAfterMs: number } {
    let window = this.windows.get(source);
    if (window === undefined || now - window.startedAt >= this.limit.windowMs) {
      this.evictIfFull(now);
      window = { startedAt: now, count: 0 };
      this.windows.set(source, window);
    }
    window.count++;
    if (window.count <= this.limit.max) return { allowed: true, retryAfterMs: 0 };
    return { allowed: false, retryAfterMs: window.startedAt + this.limit.windowMs - now };
  }

  private evictIfFull(now: number): void {
    if (this.windows.size < MAX_TRACKED_SOURCES) return;
    for (const [key, w] of this.windows) {
      if (now - w.startedAt >= this.limit.windowMs) this.windows.delete(key);
    }
    // Still full of live windows: forget the oldest (Map keeps insertion order).
    while (this.windows.size >= MAX_TRACKED_SOURCES) {
      const oldest = this.windows.keys().next().value;
      if (oldest === undefined) break;
      this.windows.delete(oldest);
    }
  }
}
