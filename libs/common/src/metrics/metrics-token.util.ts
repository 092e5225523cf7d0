import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Whether a scrape may read /metrics: always when no token is configured, otherwise only with
 * `Authorization: Bearer <token>`. Compared in constant time over digests, so neither content nor length leaks.
 */
export function metricsScrapeAllowed(authorization: string | undefined, token: string | undefined): boolean {
  if (token === undefined || token === '') return true;
  const match = /^Bearer\s+(.+)$/i.exec(authorization?.trim() ?? '');
  if (match?.[1] === undefined) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(match[1]), digest(token));
}
