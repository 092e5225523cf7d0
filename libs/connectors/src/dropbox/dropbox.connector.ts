import { createHmac, timingSafeEqual } from 'node:crypto';
import { type Activity, type ActivityFormat, type ActivitySummary } from '@tributary/activity';
import { PermanentError, ValidationError } from '@tributary/common';
import {
  AccountFullError,
  ActivityNotAcceptedError,
  AuthRevokedError,
  DuplicateAtDestinationError,
  PermanentUpstreamError,
  RateLimitedError,
  RemoteNotFoundError,
  UpstreamUnavailableError,
  WebhookRejectedError,
} from '../errors/connector.error';
import { HttpClient, type HttpRequest, type HttpResponse, isJsonObject, parseRetryAfter } from '../http/http-client';
import { type RateBucket } from '../rate-limit/rate-limiter';
import { encodeForUpload, formatFromFileName } from '../shared/activity-codec';
import {
  type ConnectorDeps,
  DEFAULT_MAX_PACE_MS,
  MAX_RATE_LIMITED_ATTEMPTS,
  trimSlash,
} from '../shared/connector-deps';
import {
  DEFAULT_NAME_TEMPLATE,
  renderFileName,
  startFromFileName,
  typeFromPathTags,
  validateNameTemplate,
} from '../shared/file-naming.util';
import { bool, num, responseObject, str } from '../shared/json.util';
import {
  type AuthSpec,
  type AuthorizedAccount,
  type ConnectorContext,
  headerValue,
  type HeaderBag,
  type JsonObject,
  type ListExclusion,
  type ListOptions,
  type ListPage,
  type ServiceCapabilities,
  type ServiceConnector,
  type UploadResult,
  type WebhookEvent,
  type WebhookVerification,
} from '../service-connector.interface';
import { ALL_ACTIVITY_TYPES } from '@tributary/activity';

const SERVICE = 'dropbox';
/** The SDK refreshes "a little before expiry"; five minutes covers a slow sync step. */
const REFRESH_MARGIN_MS = 5 * 60_000;
const FORMATS: readonly ActivityFormat[] = ['fit', 'tcx', 'gpx', 'pwx'];

export interface DropboxConnectorOptions {
  apiUrl: string;
  contentUrl: string;
  notifyUrl: string;
  /** Defaults to https://www.dropbox.com/oauth2/authorize for the real API, else `${apiUrl}/oauth2/authorize`. */
  authorizeUrl?: string;
  clientId?: string;
  clientSecret?: string;
  /** Per-user request budget; Dropbox publishes no numbers, so this only smooths bursts. */
  perUserLimit?: { capacity: number; windowMs: number };
  maxPaceMs?: number;
}

/** Per-connection settings (connection config). */
export interface DropboxConnectionConfig {
  /** Folder holding the activities, "" for the app folder root. */
  folder: string;
  /** Upload format. */
  format: ActivityFormat;
  nameTemplate: string;
  /** Files without a type tag in their path: take the type from the file, or skip them (tapiriik's default). */
  untagged: 'file' | 'skip';
  /** Delta cursor from the last complete listing. */
  cursor?: string;
}

interface DropboxCredentials {
  accessToken: string;
  refreshToken: string;
  /** epoch seconds */
  expiresAt: number;
}

export function dropboxConfig(config: Readonly<JsonObject>): DropboxConnectionConfig {
  const folderRaw = config.folder ?? '';
  if (typeof folderRaw !== 'string' || folderRaw.includes('\\') || /(^|\/)\.\.?(\/|$)/.test(folderRaw)) {
    throw new ValidationError('dropbox folder must be a plain path like /Activities');
  }
  const folder = folderRaw === '' || folderRaw === '/' ? '' : `/${folderRaw.replace(/^\/+|\/+$/g, '')}`;
  const format = config.format ?? 'fit';
  if (typeof format !== 'string' || !(FORMATS as readonly string[]).includes(format)) {
    throw new ValidationError(`dropbox format must be one of ${FORMATS.join(', ')}`);
  }
  const untagged = config.untagged ?? 'file';
  if (untagged !== 'file' && untagged !== 'skip') throw new ValidationError('untagged must be "file" or "skip"');
  return {
    folder,
    format: format as ActivityFormat,
    nameTemplate: validateNameTemplate(config.nameTemplate ?? DEFAULT_NAME_TEMPLATE),
    untagged,
    cursor: str(config.cursor),
  };
}

function credentialsOf(ctx: ConnectorContext): DropboxCredentials {
  const accessToken = str(ctx.credentials.accessToken);
  const refreshToken = str(ctx.credentials.refreshToken);
  const expiresAt = num(ctx.credentials.expiresAt);
  if (accessToken === undefined || refreshToken === undefined || expiresAt === undefined) {
    throw new AuthRevokedError(SERVICE, 'stored credentials are incomplete');
  }
  return { accessToken, refreshToken, expiresAt };
}

/** Dropbox-API-Arg must be ASCII: escape everything else as \uXXXX. */
export function headerSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** error_summary with its trailing "/..." noise removed, e.g. "path/not_found". */
function errorSummary(res: HttpResponse): string {
  const body = res.json();
  const summary = isJsonObject(body) ? str(body.error_summary) : undefined;
  return (summary ?? res.text()).replace(/[/.]+$/, '');
}

class ExpiredTokenSignal extends PermanentError {
  constructor() {
    super('dropbox_expired_token', 'access token expired');
  }
}

/** Dropbox API v2 (service-apis.md §3): a folder of activity files. */
export class DropboxConnector implements ServiceConnector {
  readonly id = 'dropbox' as const;
  readonly name = 'Dropbox';
  readonly auth: AuthSpec;
  readonly capabilities: ServiceCapabilities = {
    supplies: true,
    receives: true,
    acceptedFormats: FORMATS,
    acceptedTypes: new Set(ALL_ACTIVITY_TYPES),
    // tapiriik: a file with no samples is not worth writing.
    acceptsStationary: false,
    acceptsNonGps: true,
    partialSyncTrigger: 'webhook',
    exhaustiveListing: true,
  };

  private readonly api: string;
  private readonly content: string;
  private readonly notify: string;
  private readonly http: HttpClient;
  private readonly now: () => number;

  constructor(
    private readonly options: DropboxConnectorOptions,
    private readonly deps: ConnectorDeps,
  ) {
    this.api = trimSlash(options.apiUrl);
    this.content = trimSlash(options.contentUrl);
    this.notify = trimSlash(options.notifyUrl);
    this.http = deps.http ?? new HttpClient(SERVICE, { observer: deps.observer });
    this.now = deps.now ?? Date.now;
    const authorizeUrl =
      options.authorizeUrl ??
      (this.api === 'https://api.dropboxapi.com'
        ? 'https://www.dropbox.com/oauth2/authorize'
        : `${this.api}/oauth2/authorize`);
    this.auth = {
      kind: 'oauth2',
      authorizationURL: authorizeUrl,
      tokenURL: `${this.api}/oauth2/token`,
      scope: ['files.metadata.read', 'files.content.read', 'files.content.write'],
      scopeSeparator: ' ',
      authorizationParams: { token_access_type: 'offline' },
      clientId: options.clientId,
      clientSecret: options.clientSecret,
    };
  }

  completeOAuth(accessToken: string, refreshToken: string | undefined, params: JsonObject): AuthorizedAccount {
    const accountId = str(params.account_id);
    if (accountId === undefined || refreshToken === undefined) {
      throw new PermanentUpstreamError(SERVICE, 'bad_response', 'token response lacks account_id or refresh_token');
    }
    const expiresIn = num(params.expires_in) ?? 14_400;
    return {
      externalUserId: accountId,
      credentials: { accessToken, refreshToken, expiresAt: Math.floor(this.now() / 1000) + expiresIn },
    };
  }

  validateConfig(config: JsonObject): Promise<JsonObject> {
    return Promise.resolve().then(() => {
      const c = dropboxConfig(config);
      return { ...config, folder: c.folder, format: c.format, nameTemplate: c.nameTemplate, untagged: c.untagged };
    });
  }

  async refreshCredentials(ctx: ConnectorContext): Promise<void> {
    await this.accessToken(ctx, false);
  }

  private async accessToken(ctx: ConnectorContext, force: boolean): Promise<string> {
    const creds = credentialsOf(ctx);
    if (!force && creds.expiresAt * 1000 - this.now() > REFRESH_MARGIN_MS) return creds.accessToken;
    const res = await this.http.request({
      method: 'POST',
      url: `${this.api}/oauth2/token`,
      operation: 'token_refresh',
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: creds.refreshToken,
        client_id: this.options.clientId ?? '',
        client_secret: this.options.clientSecret ?? '',
      }),
      signal: ctx.signal,
    });
    if (res.status === 400 || res.status === 401) throw new AuthRevokedError(SERVICE, 'the refresh token was rejected');
    if (res.status === 429 || res.status >= 500) {
      throw new UpstreamUnavailableError(SERVICE, `token refresh answered HTTP ${res.status}`, res.status);
    }
    const body = responseObject(SERVICE, res, 'token_refresh');
    const accessToken = str(body.access_token);
    if (accessToken === undefined) throw new PermanentUpstreamError(SERVICE, 'bad_response', 'no access_token');
    const next = {
      ...ctx.credentials,
      accessToken,
      expiresAt: Math.floor(this.now() / 1000) + (num(body.expires_in) ?? 14_400),
    };
    await ctx.saveCredentials(next);
    ctx.credentials = next;
    return accessToken;
  }

  private bucket(ctx: ConnectorContext): RateBucket {
    const limit = this.options.perUserLimit ?? { capacity: 300, windowMs: 60_000 };
    return { key: `dropbox:user:${ctx.externalUserId ?? ctx.connectionId}`, ...limit, scope: 'user' };
  }

  /**
   * One authorised call with pacing, retry_after handling and one transparent refresh on expired_access_token.
   * Returns 2xx and 409 responses; 409 bodies are endpoint errors the caller interprets.
   */
  private async call(ctx: ConnectorContext, req: HttpRequest): Promise<HttpResponse> {
    const bucket = this.bucket(ctx);
    const maxPace = this.options.maxPaceMs ?? DEFAULT_MAX_PACE_MS;
    let refreshed = false;
    for (let attempt = 1; ; attempt++) {
      await this.deps.limiter.acquire([bucket], { service: SERVICE, maxWaitMs: maxPace, signal: ctx.signal });
      const token = await this.accessToken(ctx, false);
      const res = await this.http.request({
        ...req,
        headers: { ...req.headers, Authorization: `Bearer ${token}` },
        signal: ctx.signal,
      });
      if (res.status === 429) {
        const wait = this.retryAfterMs(res);
        await this.deps.limiter.block([bucket], wait);
        if (attempt < MAX_RATE_LIMITED_ATTEMPTS && wait <= maxPace) continue;
        throw new RateLimitedError(SERVICE, wait, 'user');
      }
      try {
        this.throwForStatus(res, req.operation);
      } catch (err) {
        if (err instanceof ExpiredTokenSignal && !refreshed) {
          refreshed = true;
          await this.accessToken(ctx, true);
          continue;
        }
        if (err instanceof ExpiredTokenSignal) throw new AuthRevokedError(SERVICE, 'access token keeps expiring');
        throw err;
      }
      return res;
    }
  }

  private retryAfterMs(res: HttpResponse): number {
    const body = res.json();
    const inner = isJsonObject(body) && isJsonObject(body.error) ? num(body.error.retry_after) : undefined;
    return inner !== undefined ? inner * 1000 : (parseRetryAfter(res.headers.get('retry-after')) ?? 60_000);
  }

  private throwForStatus(res: HttpResponse, operation: string): void {
    const s = res.status;
    if ((s >= 200 && s < 300) || s === 409) return;
    if (s === 401) {
      const body = res.json();
      const tag = isJsonObject(body) && isJsonObject(body.error) ? str(body.error['.tag']) : undefined;
      if (tag === 'expired_access_token') throw new ExpiredTokenSignal();
      throw new AuthRevokedError(SERVICE, tag === undefined ? undefined : `authorization failed (${tag})`);
    }
    if (s === 408 || s >= 500) throw new UpstreamUnavailableError(SERVICE, `${operation} answered HTTP ${s}`, s);
    if (s === 403) throw new PermanentUpstreamError(SERVICE, 'forbidden', `${operation}: ${errorSummary(res)}`, s);
    throw new PermanentUpstreamError(
      SERVICE,
      'rejected',
      `${operation}: HTTP ${s} ${errorSummary(res).slice(0, 200)}`,
      s,
    );
  }

  private rpc(ctx: ConnectorContext, route: string, arg: unknown): Promise<HttpResponse> {
    return this.call(ctx, { method: 'POST', url: `${this.api}/2/${route}`, operation: route, json: arg });
  }

  async listActivities(ctx: ConnectorContext, options: ListOptions): Promise<ListPage> {
    const config = dropboxConfig(ctx.config);
    let res: HttpResponse;
    if (options.cursor !== undefined) {
      res = await this.rpc(ctx, 'files/list_folder/continue', { cursor: options.cursor });
    } else if (!options.exhaustive && config.cursor !== undefined) {
      res = await this.rpc(ctx, 'files/list_folder/continue', { cursor: config.cursor });
      // An expired delta cursor means "start again from scratch".
      if (res.status === 409 && errorSummary(res).startsWith('reset')) res = await this.listFolder(ctx, config);
    } else {
      res = await this.listFolder(ctx, config);
    }
    if (res.status === 409 && options.cursor === undefined && errorSummary(res).startsWith('path/not_found')) {
      // A new connection's folder appears with the first upload; until then there is simply nothing to list.
      return { activities: [], exclusions: [] };
    }
    if (res.status === 409) this.throwEndpointError(res, 'files/list_folder', config.folder);
    const body = responseObject(SERVICE, res, 'list_folder');
    const entries = Array.isArray(body.entries) ? body.entries : [];
    const activities: ActivitySummary[] = [];
    const exclusions: ListExclusion[] = [];
    for (const entry of entries) {
      if (!isJsonObject(entry) || entry['.tag'] !== 'file') continue;
      const path = str(entry.path_display) ?? str(entry.path_lower);
      const name = str(entry.name);
      if (path === undefined || name === undefined || formatFromFileName(name) === undefined) continue;
      try {
        const summary = await this.summarise(ctx, config, entry, path, name);
        if ('reason' in summary) exclusions.push(summary);
        else activities.push(summary);
      } catch (err) {
        if (!(err instanceof PermanentError) || err instanceof AuthRevokedError) throw err;
        exclusions.push({ remoteId: path, reason: 'corrupt', message: err.message, permanent: true });
      }
    }
    const cursor = str(body.cursor);
    const hasMore = bool(body.has_more) ?? false;
    return {
      activities,
      exclusions,
      cursor: hasMore ? cursor : undefined,
      checkpoint: !hasMore && cursor !== undefined ? { cursor } : undefined,
    };
  }

  private listFolder(ctx: ConnectorContext, config: DropboxConnectionConfig): Promise<HttpResponse> {
    return this.rpc(ctx, 'files/list_folder', {
      path: config.folder,
      recursive: true,
      include_deleted: false,
      limit: 2000,
    });
  }

  private async summarise(
    ctx: ConnectorContext,
    config: DropboxConnectionConfig,
    entry: Record<string, unknown>,
    path: string,
    name: string,
  ): Promise<ActivitySummary | ListExclusion> {
    const relative = path.slice(config.folder.length);
    const tagged = typeFromPathTags(relative);
    if (tagged === undefined && config.untagged === 'skip') {
      return { remoteId: path, reason: 'untagged', message: 'no activity type in the file path', permanent: true };
    }
    const externalIds = [str(entry.id), str(entry.content_hash)].filter((v): v is string => v !== undefined);
    const fromName = startFromFileName(name);
    if (fromName !== undefined) {
      return {
        remoteId: path,
        start: fromName,
        naive: true,
        type: tagged ?? 'other',
        externalIds,
        originalFormats: [formatFromFileName(name)!],
      };
    }
    // Names we did not write carry no start time: read it from the file (tapiriik did the same).
    const activity = await this.downloadActivity(ctx, { remoteId: path, start: 0, type: tagged ?? 'other' });
    return {
      remoteId: path,
      start: activity.start,
      end: activity.end,
      timezone: activity.timezone,
      naive: activity.naive,
      type: activity.type,
      name: activity.name,
      stationary: activity.stationary,
      gps: activity.gps,
      distance: activity.stats.distance,
      externalIds,
      originalFormats: [activity.original?.format ?? formatFromFileName(name)!],
    };
  }

  private throwEndpointError(res: HttpResponse, operation: string, remoteId: string): never {
    const summary = errorSummary(res);
    if (summary.startsWith('path/not_found') || summary.startsWith('path/lookup/not_found')) {
      throw new RemoteNotFoundError(SERVICE, remoteId);
    }
    if (summary.includes('insufficient_space')) throw new AccountFullError(SERVICE);
    throw new PermanentUpstreamError(SERVICE, 'rejected', `${operation}: ${summary.slice(0, 200)}`, 409);
  }

  async downloadActivity(ctx: ConnectorContext, summary: ActivitySummary): Promise<Activity> {
    const config = dropboxConfig(ctx.config);
    const format = formatFromFileName(summary.remoteId);
    if (format === undefined) {
      throw new PermanentUpstreamError(SERVICE, 'unsupported', `not an activity file: ${summary.remoteId}`);
    }
    const res = await this.call(ctx, {
      method: 'POST',
      url: `${this.content}/2/files/download`,
      operation: 'files/download',
      headers: { 'Dropbox-API-Arg': headerSafeJson({ path: summary.remoteId }) },
    });
    if (res.status === 409) this.throwEndpointError(res, 'files/download', summary.remoteId);
    const decoded = this.deps.codec.decodeActivity(res.bytes, format);
    const tagged = typeFromPathTags(summary.remoteId.slice(config.folder.length));
    const name = summary.remoteId.split('/').pop();
    return {
      ...decoded,
      type: tagged ?? decoded.type,
      original: { format, bytes: res.bytes, name },
    };
  }

  async uploadActivity(ctx: ConnectorContext, activity: Activity): Promise<UploadResult> {
    const config = dropboxConfig(ctx.config);
    if (activity.stationary === true || activity.samples.length === 0) {
      throw new ActivityNotAcceptedError(
        SERVICE,
        'stationary',
        'files need samples; stationary activities are skipped',
      );
    }
    const file = encodeForUpload(this.deps.codec, activity, [config.format]);
    const path = `${config.folder}/${renderFileName(config.nameTemplate, activity, file.format)}`;
    const res = await this.call(ctx, {
      method: 'POST',
      url: `${this.content}/2/files/upload`,
      operation: 'files/upload',
      headers: {
        'Dropbox-API-Arg': headerSafeJson({ path, mode: 'add', autorename: false, mute: true }),
        'Content-Type': 'application/octet-stream',
      },
      body: file.bytes,
    });
    if (res.status === 409) {
      // Identical bytes are not a conflict at Dropbox; a conflict is a different file under our deterministic name,
      // i.e. the same start second and type: the same activity already synced from elsewhere. Never overwrite it.
      if (errorSummary(res).startsWith('path/conflict')) throw new DuplicateAtDestinationError(SERVICE, path);
      this.throwEndpointError(res, 'files/upload', path);
    }
    const meta = responseObject(SERVICE, res, 'files/upload');
    return { remoteId: str(meta.path_display) ?? path };
  }

  async revoke(ctx: ConnectorContext): Promise<void> {
    let accessToken: string;
    try {
      // Revoking with a live access token also kills the refresh token; an expired one would leave it valid.
      accessToken = await this.accessToken(ctx, false);
    } catch (err) {
      if (err instanceof AuthRevokedError) return;
      throw err;
    }
    const res = await this.http.request({
      method: 'POST',
      url: `${this.api}/2/auth/token/revoke`,
      operation: 'auth/token/revoke',
      headers: { Authorization: `Bearer ${accessToken}` },
      signal: ctx.signal,
    });
    if (res.status === 401) return;
    this.throwForStatus(res, 'auth/token/revoke');
  }

  /**
   * Long-poll for changes after the stored cursor (no auth header, per Dropbox). Resolves with whether something
   * changed and how long Dropbox asks us to back off before polling again.
   */
  async waitForChanges(ctx: ConnectorContext, timeoutSeconds = 30): Promise<{ changes: boolean; backoffMs: number }> {
    const { cursor } = dropboxConfig(ctx.config);
    if (cursor === undefined) return { changes: true, backoffMs: 0 };
    const timeout = Math.min(480, Math.max(30, timeoutSeconds));
    const res = await this.http.request({
      method: 'POST',
      url: `${this.notify}/2/files/list_folder/longpoll`,
      operation: 'files/list_folder/longpoll',
      json: { cursor, timeout },
      timeoutMs: (timeout + 120) * 1000,
      signal: ctx.signal,
    });
    if (res.status === 409 && errorSummary(res).startsWith('reset')) return { changes: true, backoffMs: 0 };
    if (res.status === 429) throw new RateLimitedError(SERVICE, this.retryAfterMs(res), 'user');
    this.throwForStatus(res, 'files/list_folder/longpoll');
    const body = responseObject(SERVICE, res, 'longpoll');
    return { changes: bool(body.changes) ?? false, backoffMs: (num(body.backoff) ?? 0) * 1000 };
  }

  verifySubscription(query: Record<string, string | undefined>): WebhookVerification {
    const challenge = query.challenge;
    if (challenge === undefined) throw new WebhookRejectedError(SERVICE, 'no challenge');
    return {
      status: 200,
      contentType: 'text/plain',
      body: challenge,
      headers: { 'X-Content-Type-Options': 'nosniff' },
    };
  }

  parseWebhook(headers: HeaderBag, rawBody: Uint8Array | string): WebhookEvent[] {
    const secret = this.options.clientSecret;
    if (secret === undefined) throw new WebhookRejectedError(SERVICE, 'no app secret configured');
    const raw = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : Buffer.from(rawBody);
    const signature = headerValue(headers, 'x-dropbox-signature') ?? '';
    const expected = createHmac('sha256', secret).update(raw).digest();
    const given = Buffer.from(signature, 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new WebhookRejectedError(SERVICE, 'bad signature');
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new WebhookRejectedError(SERVICE, 'body is not JSON');
    }
    const accounts =
      isJsonObject(body) && isJsonObject(body.list_folder) && Array.isArray(body.list_folder.accounts)
        ? body.list_folder.accounts
        : [];
    return accounts
      .filter((a): a is string => typeof a === 'string')
      .map((externalUserId) => ({ externalUserId, kind: 'changed' as const }));
  }
}
