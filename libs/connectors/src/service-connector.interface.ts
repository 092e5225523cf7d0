import { type Activity, type ActivityFormat, type ActivitySummary, type ActivityType } from '@tributary/activity';

export type ServiceId = 'strava' | 'garmin_connect' | 'dropbox' | 'local_folder';

export const SERVICE_IDS: readonly ServiceId[] = ['strava', 'garmin_connect', 'dropbox', 'local_folder'];

/** JSON-serialisable bag: what the caller stores (encrypted for credentials) and hands back on the next call. */
export type JsonObject = { [key: string]: unknown };

/** How a user connects this service. OAuth2 fields feed passport-oauth2 (see createOAuth2Strategy). */
export type AuthSpec =
  | {
      kind: 'oauth2';
      authorizationURL: string;
      tokenURL: string;
      scope: string[];
      scopeSeparator: string;
      /** Extra query parameters for the authorize URL (Dropbox `token_access_type=offline`, Strava `approval_prompt`). */
      authorizationParams: Record<string, string>;
      clientId?: string;
      clientSecret?: string;
    }
  /** Username and password, exchanged by `authorize` for a session; the password is kept to log in again. */
  | { kind: 'credentials' }
  /** A folder path chosen by the operator/user; nothing secret. */
  | { kind: 'path' };

export type PartialSyncTrigger = 'webhook' | 'poll' | 'none';

export interface ServiceCapabilities {
  supplies: boolean;
  receives: boolean;
  /** Upload formats, best first. */
  acceptedFormats: readonly ActivityFormat[];
  /** Types the destination can represent; the sync engine picks the nearest accepted ancestor. */
  acceptedTypes: ReadonlySet<ActivityType>;
  acceptsStationary: boolean;
  acceptsNonGps: boolean;
  partialSyncTrigger: PartialSyncTrigger;
  /** Whether listing everything is possible (false: only recent activities can be listed). */
  exhaustiveListing: boolean;
}

/**
 * Everything a connector needs for one connection. Credentials arrive decrypted; when the connector rotates them
 * (token refresh, new session) it calls `saveCredentials` with the full new set, which the caller encrypts and
 * stores before the connector continues, and then replaces `credentials` on this context so later calls in the
 * same job use the new set. One context per connection per job; never shared between concurrent jobs.
 */
export interface ConnectorContext {
  connectionId: string;
  /** The service's id for the account (Strava athlete id, Dropbox account_id, Garmin username…). */
  externalUserId?: string;
  credentials: Readonly<JsonObject>;
  /** Per-connection settings (Dropbox folder/format/name template, local folder path, listing cursor…). */
  config: Readonly<JsonObject>;
  saveCredentials(next: JsonObject): Promise<void>;
  signal?: AbortSignal;
}

export interface ListOptions {
  /** List everything the service has instead of only what changed since the last sync. */
  exhaustive: boolean;
  /** Partial sync: only activities starting (or changed) after this instant, epoch ms. */
  after?: number;
  /** Continue a listing: the `cursor` of the previous page. */
  cursor?: string;
}

/** An activity the service lists but that cannot be synced (untagged file, unreadable file, unknown type). */
export interface ListExclusion {
  remoteId: string;
  reason: string;
  message: string;
  /** False when a later sync may succeed (the file may still be being written). */
  permanent: boolean;
}

export interface ListPage {
  activities: ActivitySummary[];
  exclusions: ListExclusion[];
  /** Pass back as `cursor` for the next page; undefined on the last page. */
  cursor?: string;
  /**
   * Settings to merge into the connection's config once everything listed has been processed (Dropbox's delta
   * cursor). Persisting it earlier could skip activities whose sync then fails.
   */
  checkpoint?: JsonObject;
}

export interface UploadOptions {
  /** A stable id for this activity at the destination (Strava external_id), so a retry can be recognised. */
  externalId?: string;
  /** An upload from an earlier attempt that was still processing (UploadStillProcessingError.uploadId). */
  resumeUploadId?: string;
}

export interface UploadResult {
  remoteId: string;
}

export type WebhookEventKind =
  'activity_created' | 'activity_updated' | 'activity_deleted' | 'deauthorized' | 'changed';

/** One thing a webhook told us; the web app enqueues a partial sync for the connection of `externalUserId`. */
export interface WebhookEvent {
  externalUserId: string;
  kind: WebhookEventKind;
  objectId?: string;
}

/** What the web app answers to a subscription verification request. */
export interface WebhookVerification {
  status: number;
  contentType: string;
  body: string;
  headers?: Record<string, string>;
}

export type HeaderBag = Record<string, string | string[] | undefined>;

/** What `authorize`/`completeOAuth` produce: the account id and the credentials to encrypt and store. */
export interface AuthorizedAccount {
  externalUserId: string;
  credentials: JsonObject;
  displayName?: string;
}

export interface UsernamePassword {
  username: string;
  password: string;
  /** Second step after MfaRequiredError: the code the user typed and the error's `session`. */
  mfa?: { code: string; session: string };
}

/**
 * The one contract every service implements (the spirit of tapiriik's ServiceBase, typed). Methods a service
 * does not support are absent; `capabilities` says which ones the sync engine may call.
 */
export interface ServiceConnector {
  readonly id: ServiceId;
  readonly name: string;
  readonly auth: AuthSpec;
  readonly capabilities: ServiceCapabilities;

  /** OAuth2: turn passport's token response into stored credentials. */
  completeOAuth?(accessToken: string, refreshToken: string | undefined, params: JsonObject): AuthorizedAccount;
  /** Credentials services: log in (throws InvalidCredentialsError, MfaRequiredError, CaptchaRequiredError). */
  authorize?(login: UsernamePassword): Promise<AuthorizedAccount>;
  /** Refresh tokens if they expire soon; persists through ctx.saveCredentials. Called implicitly by every method. */
  refreshCredentials?(ctx: ConnectorContext): Promise<void>;
  /** Path services: validate a new connection's config before it is stored. */
  validateConfig?(config: JsonObject): Promise<JsonObject>;

  listActivities(ctx: ConnectorContext, options: ListOptions): Promise<ListPage>;
  downloadActivity(ctx: ConnectorContext, summary: ActivitySummary): Promise<Activity>;
  uploadActivity(ctx: ConnectorContext, activity: Activity, options?: UploadOptions): Promise<UploadResult>;
  revoke(ctx: ConnectorContext): Promise<void>;

  /** Answer the provider's subscription handshake; throws WebhookRejectedError for a bad verify token. */
  verifySubscription?(query: Record<string, string | undefined>): WebhookVerification;
  /** Verify (signature) and parse a webhook POST; throws WebhookRejectedError. */
  parseWebhook?(headers: HeaderBag, rawBody: Uint8Array | string): WebhookEvent[];
}

export function headerValue(headers: HeaderBag, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === wanted) return Array.isArray(v) ? v[0] : v;
  }
  return undefined;
}
