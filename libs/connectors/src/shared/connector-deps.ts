import { type HttpClient, type RequestObserver } from '../http/http-client';
import { type RateLimiter } from '../rate-limit/rate-limiter';
import { type ActivityCodec } from './activity-codec';

/** What every connector is built with; `now`/`sleep` are injectable so tests do not wait for real. */
export interface ConnectorDeps {
  limiter: RateLimiter;
  codec: ActivityCodec;
  /** Built from `observer` when absent. */
  http?: HttpClient;
  observer?: RequestObserver;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** Longest a single request waits for a rate-limit token before the job is handed back to the queue. */
export const DEFAULT_MAX_PACE_MS = 30_000;
/** How often one request is re-sent after short 429s before giving up. */
export const MAX_RATE_LIMITED_ATTEMPTS = 3;

export function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
