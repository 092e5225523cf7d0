/**
 * Tunables of the Strava simulator. Values marked [unv] in service-apis.md are settings so a test can flip them
 * (PATCH /_control/settings) when the real service turns out to behave the other way.
 */
export interface StravaSettings {
  clientId: string;
  clientSecret: string;
  /** Fresh access token lifetime (Strava: 6 h). */
  accessTokenTtlSeconds: number;
  /** A refresh while the token still has more than this left returns the same token (observed behaviour). */
  refreshReuseThresholdSeconds: number;
  /** Issue a new refresh token on each real refresh; the old one stops working. */
  rotateRefreshTokens: boolean;
  /** How many status polls answer "still being processed" before the upload is processed. */
  uploadProcessingPolls: number;
  duplicateDetection: boolean;
  /** [unv] Identical file bytes already uploaded: report the duplicate in the POST response itself (tapiriik checks it). */
  duplicateFileInPostResponse: boolean;
  /** Same athlete + start time within this many seconds = duplicate. */
  duplicateToleranceSeconds: number;
  /** [unv] List is ascending when only `after` is given. */
  ascendingWhenAfter: boolean;
  /** [lib] Largest per_page honoured; larger values are clamped. */
  maxPerPage: number;
  /** [15-minute, daily] limits of the overall and read ("non-upload") buckets. */
  rateLimits: { overall: [number, number]; read: [number, number] };
  webhookTimeoutMs: number;
  webhookAttempts: number;
  webhookRetryDelayMs: number;
  /** Send push events by itself (create/update/delete/deauthorize) when a subscription exists. */
  autoWebhooks: boolean;
  /** The public API has no DELETE /activities/{id}; answer 404 unless enabled. */
  deleteEnabled: boolean;
  /** [unv] 401 body: `athlete` = resource Athlete/field access_token; `application` = resource Application/field "". */
  unauthorizedShape: 'athlete' | 'application';
}

export const DEFAULT_STRAVA_SETTINGS: StravaSettings = {
  clientId: '12345',
  clientSecret: 'sandbox-strava-secret',
  accessTokenTtlSeconds: 21_600,
  refreshReuseThresholdSeconds: 3_600,
  rotateRefreshTokens: true,
  uploadProcessingPolls: 1,
  duplicateDetection: true,
  duplicateFileInPostResponse: false,
  duplicateToleranceSeconds: 0,
  ascendingWhenAfter: true,
  maxPerPage: 200,
  rateLimits: { overall: [200, 2000], read: [100, 1000] },
  webhookTimeoutMs: 2_000,
  webhookAttempts: 3,
  webhookRetryDelayMs: 200,
  autoWebhooks: true,
  deleteEnabled: false,
  unauthorizedShape: 'athlete',
};
