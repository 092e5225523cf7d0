import { unzipSync } from 'fflate';
import { ALL_ACTIVITY_TYPES, type Activity, type ActivitySummary } from '@tributary/activity';
import {
  AuthRevokedError,
  CaptchaRequiredError,
  DuplicateAtDestinationError,
  InvalidCredentialsError,
  MfaRequiredError,
  PermanentUpstreamError,
  RateLimitedError,
  RemoteNotFoundError,
  UploadConsentRequiredError,
  UploadStillProcessingError,
  UpstreamUnavailableError,
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
import { bool, idString, num, responseJson, responseObject, str } from '../shared/json.util';
import {
  type AuthSpec,
  type AuthorizedAccount,
  type ConnectorContext,
  type ListOptions,
  type ListPage,
  type ServiceCapabilities,
  type ServiceConnector,
  type UploadOptions,
  type UploadResult,
  type UsernamePassword,
} from '../service-connector.interface';
import { garminTypeToActivityType, parseGarminGmt } from './garmin-types.util';

const SERVICE = 'garmin_connect';
const PAGE_SIZE = 100;
/** python-garminconnect refreshes the DI token 15 minutes before it expires. */
const REFRESH_MARGIN_MS = 15 * 60_000;
const MOBILE_CLIENT_ID = 'GCM_ANDROID_DARK';
const MOBILE_SERVICE = 'https://mobile.integration.garmin.com/gcm/android';
const DI_CLIENT_ID = 'GARMIN_CONNECT_MOBILE_ANDROID_DI_2025Q2';
const DI_GRANT_SERVICE_TICKET = 'https://connectapi.garmin.com/di-oauth2-service/oauth/grant/service_ticket';
const USER_AGENT = 'GCM-Android-5.23';

export interface GarminConnectorOptions {
  /** API host (connectapi.garmin.com in production). */
  baseUrl: string;
  /** SSO host for the mobile JSON login. */
  ssoUrl: string;
  /** DI OAuth2 token host; defaults to https://diauth.garmin.com for the real SSO, else the SSO URL itself. */
  diAuthUrl?: string;
  /** tapiriik kept ≥ 1 s between requests after being banned: one request per second across all workers. */
  requestBudget?: { capacity: number; windowMs: number };
  uploadPollScheduleMs?: readonly number[];
  maxPaceMs?: number;
}

interface GarminSession {
  accessToken: string;
  refreshToken?: string;
  /** epoch ms */
  expiresAt: number;
}

interface GarminCredentials {
  username: string;
  password: string;
  session?: GarminSession;
}

function credentialsOf(ctx: ConnectorContext): GarminCredentials {
  const username = str(ctx.credentials.username);
  const password = str(ctx.credentials.password);
  if (username === undefined || password === undefined) {
    throw new AuthRevokedError(SERVICE, 'stored credentials are incomplete');
  }
  const s = ctx.credentials.session;
  let session: GarminSession | undefined;
  if (isJsonObject(s)) {
    const accessToken = str(s.accessToken);
    const expiresAt = num(s.expiresAt);
    if (accessToken !== undefined && expiresAt !== undefined) {
      session = { accessToken, refreshToken: str(s.refreshToken), expiresAt };
    }
  }
  return { username, password, session };
}

/** Login state kept between the MFA prompt and the code: cookies of the half-finished login. */
interface MfaState {
  cookies: string;
  method: string;
}

function encodeMfaState(state: MfaState): string {
  return Buffer.from(JSON.stringify(state), 'utf8').toString('base64url');
}

function decodeMfaState(session: string): MfaState {
  try {
    const parsed = JSON.parse(Buffer.from(session, 'base64url').toString('utf8')) as unknown;
    if (isJsonObject(parsed) && typeof parsed.cookies === 'string' && typeof parsed.method === 'string') {
      return { cookies: parsed.cookies, method: parsed.method };
    }
  } catch {
    // fall through
  }
  throw new InvalidCredentialsError(SERVICE, 'the verification session is invalid; log in again');
}

function cookieHeader(res: HttpResponse): string {
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!.trim())
    .filter((c) => c !== '')
    .join('; ');
}

class SessionRejected extends AuthRevokedError {}

/**
 * Garmin Connect through the mobile app's endpoints (service-apis.md §2b). Login is username/password via SSO,
 * the resulting DI token is kept in the credentials and reused until it expires or is rejected.
 */
export class GarminConnector implements ServiceConnector {
  readonly id = 'garmin_connect' as const;
  readonly name = 'Garmin Connect';
  readonly auth: AuthSpec = { kind: 'credentials' };
  readonly capabilities: ServiceCapabilities = {
    supplies: true,
    receives: true,
    acceptedFormats: ['fit', 'tcx', 'gpx'],
    acceptedTypes: new Set(ALL_ACTIVITY_TYPES),
    acceptsStationary: false,
    acceptsNonGps: true,
    partialSyncTrigger: 'poll',
    exhaustiveListing: true,
  };

  private readonly base: string;
  private readonly sso: string;
  private readonly diAuth: string;
  private readonly http: HttpClient;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly pollSchedule: readonly number[];
  private readonly bucket: RateBucket;

  constructor(
    private readonly options: GarminConnectorOptions,
    private readonly deps: ConnectorDeps,
  ) {
    this.base = trimSlash(options.baseUrl);
    this.sso = trimSlash(options.ssoUrl);
    this.diAuth = trimSlash(
      options.diAuthUrl ?? (this.sso === 'https://sso.garmin.com' ? 'https://diauth.garmin.com' : this.sso),
    );
    this.http = deps.http ?? new HttpClient(SERVICE, { observer: deps.observer, userAgent: USER_AGENT });
    this.now = deps.now ?? Date.now;
    this.sleep = deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.pollSchedule = options.uploadPollScheduleMs ?? [1000, 2000, 4000, 8000, 8000];
    this.bucket = {
      key: 'garmin:requests',
      scope: 'global',
      ...(options.requestBudget ?? { capacity: 1, windowMs: 1000 }),
    };
  }

  private async pace(ctx?: ConnectorContext): Promise<void> {
    await this.deps.limiter.acquire([this.bucket], {
      service: SERVICE,
      maxWaitMs: this.options.maxPaceMs ?? DEFAULT_MAX_PACE_MS,
      signal: ctx?.signal,
    });
  }

  // ---- login -------------------------------------------------------------------------------------------------

  async authorize(login: UsernamePassword): Promise<AuthorizedAccount> {
    const session = await this.login(login);
    return {
      externalUserId: login.username.trim().toLowerCase(),
      credentials: { username: login.username, password: login.password, session: { ...session } },
      displayName: login.username,
    };
  }

  private ssoQuery(): Record<string, string> {
    return { clientId: MOBILE_CLIENT_ID, locale: 'en-US', service: MOBILE_SERVICE };
  }

  private async login(login: UsernamePassword, signal?: AbortSignal): Promise<GarminSession> {
    let ticket: string;
    if (login.mfa !== undefined) {
      const state = decodeMfaState(login.mfa.session);
      await this.pace();
      const res = await this.http.request({
        method: 'POST',
        url: `${this.sso}/mobile/api/mfa/verifyCode`,
        operation: 'sso_mfa',
        query: this.ssoQuery(),
        headers: { Cookie: state.cookies },
        json: {
          mfaMethod: state.method,
          mfaVerificationCode: login.mfa.code,
          rememberMyBrowser: false,
          reconsentList: [],
          mfaSetup: false,
        },
        signal,
      });
      ticket = this.ticketFrom(res, login.mfa.session, state.cookies);
    } else {
      await this.pace();
      const res = await this.http.request({
        method: 'POST',
        url: `${this.sso}/mobile/api/login`,
        operation: 'sso_login',
        query: this.ssoQuery(),
        json: { username: login.username, password: login.password, rememberMe: true, captchaToken: '' },
        signal,
      });
      ticket = this.ticketFrom(res, undefined, cookieHeader(res));
    }
    return this.exchangeTicket(ticket, signal);
  }

  /** Interprets a login/MFA answer: the service ticket, or the typed reason there is none. */
  private ticketFrom(res: HttpResponse, mfaSession: string | undefined, cookies: string): string {
    if (res.status === 429) {
      throw new RateLimitedError(SERVICE, parseRetryAfter(res.headers.get('retry-after')) ?? 15 * 60_000, 'global');
    }
    if (res.status >= 500 || res.status === 408) {
      throw new UpstreamUnavailableError(SERVICE, `login answered HTTP ${res.status}`, res.status);
    }
    // Cloudflare's bot wall: a person has to log in once in a browser from this network.
    if (res.status === 403) throw new CaptchaRequiredError(SERVICE);
    if (res.status === 401) throw new InvalidCredentialsError(SERVICE);
    const body = responseObject(SERVICE, res, 'sso_login');
    const inner = isJsonObject(body.error) ? str(body.error['status-code']) : undefined;
    if (inner === '429') throw new RateLimitedError(SERVICE, 15 * 60_000, 'global');
    const status = isJsonObject(body.responseStatus) ? str(body.responseStatus.type) : undefined;
    switch (status) {
      case 'SUCCESSFUL': {
        const ticket = str(body.serviceTicketId);
        if (ticket === undefined) throw new PermanentUpstreamError(SERVICE, 'bad_response', 'login without ticket');
        return ticket;
      }
      case 'MFA_REQUIRED': {
        const info = isJsonObject(body.customerMfaInfo) ? body.customerMfaInfo : {};
        const method = str(info.mfaLastMethodUsed) ?? 'email';
        throw new MfaRequiredError(SERVICE, mfaSession ?? encodeMfaState({ cookies, method }), method);
      }
      case 'INVALID_USERNAME_PASSWORD':
        throw new InvalidCredentialsError(SERVICE);
      case 'CAPTCHA_REQUIRED':
        throw new CaptchaRequiredError(SERVICE);
      case undefined:
      default:
        if (mfaSession !== undefined) {
          throw new MfaRequiredError(SERVICE, mfaSession, decodeMfaState(mfaSession).method);
        }
        throw new PermanentUpstreamError(SERVICE, 'bad_response', `unexpected login status ${status ?? 'none'}`);
    }
  }

  private async exchangeTicket(ticket: string, signal?: AbortSignal): Promise<GarminSession> {
    return this.tokenRequest(
      {
        client_id: DI_CLIENT_ID,
        service_ticket: ticket,
        grant_type: DI_GRANT_SERVICE_TICKET,
        service_url: MOBILE_SERVICE,
      },
      signal,
    );
  }

  private async tokenRequest(form: Record<string, string>, signal?: AbortSignal): Promise<GarminSession> {
    await this.pace();
    const res = await this.http.request({
      method: 'POST',
      url: `${this.diAuth}/di-oauth2-service/oauth/token`,
      operation: 'di_token',
      headers: { Authorization: `Basic ${Buffer.from(`${DI_CLIENT_ID}:`).toString('base64')}` },
      body: new URLSearchParams(form),
      signal,
    });
    if (res.status === 400 || res.status === 401) throw new SessionRejected(SERVICE, 'the token exchange was refused');
    if (res.status === 429) throw new RateLimitedError(SERVICE, 15 * 60_000, 'global');
    if (res.status >= 500) throw new UpstreamUnavailableError(SERVICE, `token answered HTTP ${res.status}`, res.status);
    const body = responseObject(SERVICE, res, 'di_token');
    const accessToken = str(body.access_token);
    if (accessToken === undefined) throw new PermanentUpstreamError(SERVICE, 'bad_response', 'no access_token');
    return {
      accessToken,
      refreshToken: str(body.refresh_token),
      expiresAt: this.now() + (num(body.expires_in) ?? 3600) * 1000,
    };
  }

  async refreshCredentials(ctx: ConnectorContext): Promise<void> {
    await this.sessionToken(ctx, false);
  }

  /** A usable access token: the stored one, a refreshed one, or one from a fresh login (persisted either way). */
  private async sessionToken(ctx: ConnectorContext, forceLogin: boolean): Promise<string> {
    const creds = credentialsOf(ctx);
    const current = creds.session;
    if (!forceLogin && current !== undefined && current.expiresAt - this.now() > REFRESH_MARGIN_MS) {
      return current.accessToken;
    }
    let session: GarminSession | undefined;
    if (!forceLogin && current?.refreshToken !== undefined) {
      try {
        session = await this.tokenRequest(
          { grant_type: 'refresh_token', client_id: DI_CLIENT_ID, refresh_token: current.refreshToken },
          ctx.signal,
        );
      } catch (err) {
        if (!(err instanceof SessionRejected)) throw err;
      }
    }
    try {
      session ??= await this.login(creds, ctx.signal);
    } catch (err) {
      // A stored password that stopped working, or a new MFA demand, needs the user: surface it as re-auth.
      if (err instanceof InvalidCredentialsError || err instanceof MfaRequiredError) {
        throw new AuthRevokedError(SERVICE, err.message, err);
      }
      throw err;
    }
    const next = { ...ctx.credentials, session: { ...session } };
    await ctx.saveCredentials(next);
    ctx.credentials = next;
    return session.accessToken;
  }

  /** An API call with pacing, one re-login on 401, and the common status mapping. 404 is returned to the caller. */
  private async call(ctx: ConnectorContext, req: HttpRequest, allow: number[] = []): Promise<HttpResponse> {
    let relogged = false;
    for (let attempt = 1; ; attempt++) {
      await this.pace(ctx);
      const token = await this.sessionToken(ctx, false);
      const res = await this.http.request({
        ...req,
        headers: { ...req.headers, Authorization: `Bearer ${token}`, NK: 'NT' },
        signal: ctx.signal,
      });
      if (res.status === 401 && !relogged) {
        relogged = true;
        await this.sessionToken(ctx, true);
        continue;
      }
      if (res.status === 401) throw new AuthRevokedError(SERVICE, 'the session was rejected right after logging in');
      if (res.status === 429) {
        const wait = parseRetryAfter(res.headers.get('retry-after')) ?? 60_000;
        await this.deps.limiter.block([this.bucket], wait);
        if (attempt < MAX_RATE_LIMITED_ATTEMPTS && wait <= (this.options.maxPaceMs ?? DEFAULT_MAX_PACE_MS)) continue;
        throw new RateLimitedError(SERVICE, wait, 'global');
      }
      if (allow.includes(res.status) || (res.status >= 200 && res.status < 300)) return res;
      if (res.status === 408 || res.status >= 500) {
        throw new UpstreamUnavailableError(SERVICE, `${req.operation} answered HTTP ${res.status}`, res.status);
      }
      if (res.status === 403)
        throw new PermanentUpstreamError(SERVICE, 'forbidden', `${req.operation}: forbidden`, 403);
      throw new PermanentUpstreamError(SERVICE, 'rejected', `${req.operation}: HTTP ${res.status}`, res.status);
    }
  }

  // ---- listing -----------------------------------------------------------------------------------------------

  async listActivities(ctx: ConnectorContext, options: ListOptions): Promise<ListPage> {
    const offset = options.cursor === undefined ? 0 : Number(options.cursor);
    if (!Number.isInteger(offset) || offset < 0) {
      throw new PermanentUpstreamError(SERVICE, 'rejected', `invalid listing cursor ${options.cursor}`);
    }
    // Garmin filters by local calendar date: start a day early and let the sync engine drop what it has seen.
    const startDate =
      !options.exhaustive && options.after !== undefined
        ? new Date(options.after - 86_400_000).toISOString().slice(0, 10)
        : undefined;
    let items = await this.listPage(ctx, offset, startDate);
    if (items.some(isDemoData)) {
      // 2019 incident: a broken session got Garmin's demo account instead of a 401. Never sync that as the user's.
      await this.sessionToken(ctx, true);
      items = await this.listPage(ctx, offset, startDate);
      if (items.some(isDemoData)) {
        throw new UpstreamUnavailableError(SERVICE, 'Garmin returned demo data instead of the account’s activities');
      }
    }
    const page: ListPage = { activities: [], exclusions: [] };
    for (const item of items) {
      const summary = toSummary(item);
      if (summary === undefined) {
        page.exclusions.push({
          remoteId: idString(item.activityId) ?? 'unknown',
          reason: 'bad_summary',
          message: 'activity without id or start time',
          permanent: true,
        });
      } else {
        page.activities.push(summary);
      }
    }
    page.cursor = items.length === 0 ? undefined : String(offset + items.length);
    return page;
  }

  private async listPage(ctx: ConnectorContext, start: number, startDate?: string) {
    const res = await this.call(ctx, {
      method: 'GET',
      url: `${this.base}/activitylist-service/activities/search/activities`,
      operation: 'list',
      query: { start, limit: PAGE_SIZE, startDate },
    });
    const body = responseJson(SERVICE, res, 'list');
    if (!Array.isArray(body)) throw new PermanentUpstreamError(SERVICE, 'bad_response', 'list: expected an array');
    return body.filter(isJsonObject);
  }

  // ---- download ----------------------------------------------------------------------------------------------

  async downloadActivity(ctx: ConnectorContext, summary: ActivitySummary): Promise<Activity> {
    const id = encodeURIComponent(summary.remoteId);
    if (summary.stationary === true) return this.manualActivity(ctx, summary);
    const res = await this.call(
      ctx,
      { method: 'GET', url: `${this.base}/download-service/files/activity/${id}`, operation: 'download' },
      [404],
    );
    if (res.status === 404) throw new RemoteNotFoundError(SERVICE, summary.remoteId);
    const { bytes, name } = extractOriginal(res.bytes, summary.remoteId);
    const format = formatFromFileName(name) ?? this.deps.codec.detectFormat(bytes, name);
    const decoded = this.deps.codec.decodeActivity(bytes, format);
    return {
      ...decoded,
      type: decoded.type === 'other' ? summary.type : decoded.type,
      name: summary.name ?? decoded.name,
      private: summary.private ?? decoded.private,
      original: { format, bytes, name },
    };
  }

  /** Manual entries have no file: the summary is all there is. */
  private async manualActivity(ctx: ConnectorContext, summary: ActivitySummary): Promise<Activity> {
    const res = await this.call(
      ctx,
      {
        method: 'GET',
        url: `${this.base}/activity-service/activity/${encodeURIComponent(summary.remoteId)}`,
        operation: 'detail',
      },
      [404],
    );
    if (res.status === 404) throw new RemoteNotFoundError(SERVICE, summary.remoteId);
    const detail = responseObject(SERVICE, res, 'detail');
    const s = isJsonObject(detail.summaryDTO) ? detail.summaryDTO : {};
    const start = parseGarminGmt(s.startTimeGMT) ?? summary.start;
    const duration = num(s.elapsedDuration) ?? num(s.duration) ?? ((summary.end ?? start) - start) / 1000;
    const end = start + duration * 1000;
    const tz = isJsonObject(detail.timeZoneUnitDTO) ? str(detail.timeZoneUnitDTO.unitKey) : undefined;
    const stats = { distance: num(s.distance) ?? summary.distance, elapsedTime: duration, energy: num(s.calories) };
    return {
      start,
      end,
      timezone: tz ?? summary.timezone,
      type: summary.type,
      name: str(detail.activityName) ?? summary.name,
      notes: str(detail.description),
      private: summary.private,
      stationary: true,
      gps: false,
      laps: [{ start, end, stats }],
      samples: [],
      stats,
    };
  }

  // ---- upload ------------------------------------------------------------------------------------------------

  async uploadActivity(ctx: ConnectorContext, activity: Activity, options: UploadOptions = {}): Promise<UploadResult> {
    if (options.resumeUploadId !== undefined) {
      return this.finish(ctx, activity, await this.pollUpload(ctx, options.resumeUploadId));
    }
    const file = encodeForUpload(this.deps.codec, activity, this.capabilities.acceptedFormats);
    const form = new FormData();
    form.set('file', new Blob([file.bytes]), `${options.externalId ?? `tributary_${activity.start}`}.${file.format}`);
    const res = await this.call(
      ctx,
      { method: 'POST', url: `${this.base}/upload-service/upload`, operation: 'upload', body: form },
      [400, 409, 412, 413, 415, 422],
    );
    const body = res.json();
    const result =
      isJsonObject(body) && isJsonObject(body.detailedImportResult) ? body.detailedImportResult : undefined;
    const outcome = result === undefined ? undefined : importOutcome(result);
    if (outcome !== undefined) return this.finish(ctx, activity, outcome);
    if (res.status === 412) throw new UploadConsentRequiredError(SERVICE);
    if (res.status >= 400) {
      throw new PermanentUpstreamError(SERVICE, 'corrupt', `upload rejected with HTTP ${res.status}`, res.status);
    }
    const uuid = result !== undefined && isJsonObject(result.uploadUuid) ? str(result.uploadUuid.uuid) : undefined;
    const created = result === undefined ? undefined : parseGarminGmt(result.creationDate);
    if (uuid === undefined || created === undefined) {
      throw new PermanentUpstreamError(SERVICE, 'bad_response', 'upload accepted without uploadUuid/creationDate');
    }
    return this.finish(ctx, activity, await this.pollUpload(ctx, `${created}/${uuid.replace(/-/g, '')}`));
  }

  private async pollUpload(ctx: ConnectorContext, uploadId: string): Promise<string> {
    for (const wait of [0, ...this.pollSchedule]) {
      if (wait > 0) await this.sleep(wait);
      const res = await this.call(
        ctx,
        { method: 'GET', url: `${this.base}/activity-service/activity/status/${uploadId}`, operation: 'upload_status' },
        [404, 409],
      );
      if (res.status === 404) continue;
      const body = res.json();
      const result = isJsonObject(body) && isJsonObject(body.detailedImportResult) ? body.detailedImportResult : body;
      const outcome = isJsonObject(result) ? importOutcome(result) : undefined;
      if (outcome !== undefined) return outcome;
    }
    throw new UploadStillProcessingError(SERVICE, uploadId);
  }

  /** Garmin reads no name from a FIT file; set it afterwards (a failure here leaves the upload valid). */
  private async finish(ctx: ConnectorContext, activity: Activity, remoteId: string): Promise<UploadResult> {
    if (activity.name !== undefined && activity.name !== '') {
      try {
        await this.call(ctx, {
          method: 'PUT',
          url: `${this.base}/activity-service/activity/${encodeURIComponent(remoteId)}`,
          operation: 'set_name',
          json: { activityId: Number(remoteId), activityName: activity.name },
        });
      } catch (err) {
        if (!(err instanceof PermanentUpstreamError)) throw err;
      }
    }
    return { remoteId };
  }

  async revoke(ctx: ConnectorContext): Promise<void> {
    // The mobile API has no token revocation; forgetting the session and password is all there is.
    const { username } = credentialsOf(ctx);
    await ctx.saveCredentials({ username, password: '' });
  }
}

function isDemoData(item: Record<string, unknown>): boolean {
  return Array.isArray(item.userRoles) && item.userRoles.includes('ROLE_SYSTEM');
}

function toSummary(item: Record<string, unknown>): ActivitySummary | undefined {
  const remoteId = idString(item.activityId);
  const start = parseGarminGmt(item.startTimeGMT) ?? num(item.beginTimestamp);
  if (remoteId === undefined || start === undefined) return undefined;
  const duration = num(item.elapsedDuration) ?? num(item.duration);
  const manual = bool(item.manualActivity) ?? false;
  const typeKey = isJsonObject(item.activityType) ? item.activityType.typeKey : undefined;
  const privacy = isJsonObject(item.privacy) ? str(item.privacy.typeKey) : undefined;
  return {
    remoteId,
    start,
    end: duration === undefined ? undefined : start + duration * 1000,
    type: garminTypeToActivityType(typeKey),
    name: str(item.activityName),
    notes: str(item.description),
    private: privacy === undefined ? undefined : privacy === 'private',
    stationary: manual,
    gps: manual ? false : bool(item.hasPolyline),
    distance: num(item.distance),
    originalFormats: manual ? [] : ['fit'],
    complete: true,
  };
}

/**
 * The outcome recorded in a detailedImportResult: the new activity id, a duplicate, a rejection, or undefined while
 * Garmin is still processing.
 */
function importOutcome(result: Record<string, unknown>): string | undefined {
  const successes = Array.isArray(result.successes) ? result.successes.filter(isJsonObject) : [];
  const failures = Array.isArray(result.failures) ? result.failures.filter(isJsonObject) : [];
  const ok = successes.map((s) => idString(s.internalId)).find((id) => id !== undefined);
  if (ok !== undefined) return ok;
  const failure = failures[0];
  if (failure === undefined) return undefined;
  const messages = Array.isArray(failure.messages) ? failure.messages.filter(isJsonObject) : [];
  const text = messages.map((m) => str(m.content) ?? '').join('; ');
  const existing = idString(failure.internalId);
  if (messages.some((m) => num(m.code) === 202) || /duplicate activity/i.test(text)) {
    throw new DuplicateAtDestinationError(SERVICE, existing ?? 'unknown');
  }
  if (/upload consent/i.test(text)) throw new UploadConsentRequiredError(SERVICE);
  throw new PermanentUpstreamError(SERVICE, 'corrupt', `upload failed: ${text.slice(0, 300) || 'no reason given'}`);
}

/** Garmin wraps the original in a ZIP ({id}_ACTIVITY.fit); older paths return the bare file. */
function extractOriginal(bytes: Uint8Array, remoteId: string): { bytes: Uint8Array; name: string } {
  const isZip = bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
  if (!isZip) return { bytes, name: `${remoteId}.fit` };
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (err) {
    throw new PermanentUpstreamError(SERVICE, 'corrupt', 'the original file archive is corrupt', undefined, err);
  }
  const entry = Object.entries(files).find(([name]) => formatFromFileName(name) !== undefined);
  if (entry === undefined) throw new PermanentUpstreamError(SERVICE, 'unsupported', 'no activity file in the archive');
  return { name: entry[0].split('/').pop()!, bytes: entry[1] };
}
