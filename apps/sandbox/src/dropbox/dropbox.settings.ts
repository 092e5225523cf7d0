/** Tunables of the Dropbox simulator; [unv] facts from service-apis.md are settings. */
export interface DropboxSettings {
  clientId: string;
  clientSecret: string;
  /** Short-lived access token lifetime (Dropbox: 4 h). */
  accessTokenTtlSeconds: number;
  /** Page size of list_folder when the caller gives no `limit` (Dropbox's own is approximate). */
  defaultListLimit: number;
  /** Multiplies the longpoll wait so tests need not wait 30 s; 1 = real timing. */
  longpollTimeScale: number;
  /** Extra random wait added to longpoll timeouts (Dropbox: up to 90 s). */
  longpollJitterSeconds: number;
  /** When set, longpoll answers carry `backoff` with this many seconds. */
  longpollBackoffSeconds?: number;
  /** Default quota for new accounts, bytes. */
  defaultQuotaBytes: number;
  /** Largest single files/upload body (150 MiB). */
  maxUploadBytes: number;
  /** Where change notifications are POSTed (signed with the app secret); none when unset. */
  webhookUrl?: string;
  /** Notify the webhook by itself when files change (debounced). */
  autoWebhooks: boolean;
  webhookDebounceMs: number;
  webhookTimeoutMs: number;
  webhookAttempts: number;
  webhookRetryDelayMs: number;
  /** Seconds reported in too_many_requests answers from rate-limit faults without their own value. */
  retryAfterSeconds: number;
}

export const DEFAULT_DROPBOX_SETTINGS: DropboxSettings = {
  clientId: 'sandbox-dropbox-key',
  clientSecret: 'sandbox-dropbox-secret',
  accessTokenTtlSeconds: 14_400,
  defaultListLimit: 2_000,
  longpollTimeScale: 1,
  longpollJitterSeconds: 0,
  defaultQuotaBytes: 2 * 1024 * 1024 * 1024,
  maxUploadBytes: 150 * 1024 * 1024,
  autoWebhooks: true,
  webhookDebounceMs: 50,
  webhookTimeoutMs: 10_000,
  webhookAttempts: 3,
  webhookRetryDelayMs: 500,
  retryAfterSeconds: 5,
};
