import {
  type Activity,
  type ActivityStats,
  type ActivitySummary,
  type Lap,
  type Sample,
  ancestry,
  familyOf,
} from '@tributary/activity';
import {
  AuthRevokedError,
  DuplicateAtDestinationError,
  PermanentUpstreamError,
  RateLimitedError,
  RemoteNotFoundError,
  UploadStillProcessingError,
  UpstreamUnavailableError,
  WebhookRejectedError,
} from '../errors/connector.error';
import { HttpClient, type HttpRequest, type HttpResponse, isJsonObject } from '../http/http-client';
import { type RateBucket } from '../rate-limit/rate-limiter';
import { encodeForUpload } from '../shared/activity-codec';
import {
  type ConnectorDeps,
  DEFAULT_MAX_PACE_MS,
  MAX_RATE_LIMITED_ATTEMPTS,
  trimSlash,
} from '../shared/connector-deps';
import { bool, idString, num, parseJsonLossless, responseJson, responseObject, str } from '../shared/json.util';
import {
  type AuthSpec,
  type AuthorizedAccount,
  type ConnectorContext,
  type HeaderBag,
  type JsonObject,
  type ListOptions,
  type ListPage,
  type ServiceCapabilities,
  type ServiceConnector,
  type UploadOptions,
  type UploadResult,
  type WebhookEvent,
  type WebhookVerification,
} from '../service-connector.interface';
import { type ParsedStart, parseStravaStart } from '@tributary/sync';
import { STRAVA_ACCEPTED_TYPES, activityTypeToStrava, stravaTypeToActivityType } from './strava-types.util';

const SERVICE = 'strava';
const QUARTER_HOUR_MS = 15 * 60_000;
const DAY_MS = 86_400_000;
/** tapiriik refreshed 60 s before expiry; a sync step rarely takes longer than that. */
const REFRESH_MARGIN_MS = 60_000;
const PAGE_SIZE = 200;
const STREAM_KEYS = 'time,latlng,altitude,heartrate,cadence,watts,temp,distance,moving,velocity_smooth';

export interface StravaLimits {
  shortTerm: number;
  daily: number;
  readShortTerm: number;
  readDaily: number;
}

export interface StravaConnectorOptions {
  /** e.g. https://www.strava.com; the API lives under /api/v3 and OAuth under /oauth. */
  baseUrl: string;
  clientId?: string;
  clientSecret?: string;
  webhookVerifyToken?: string;
  limits?: Partial<StravaLimits>;
  /** Waits between upload status polls; after the last one the upload is reported as still processing. */
  uploadPollScheduleMs?: readonly number[];
  maxPaceMs?: number;
}

interface StravaCredentials {
  accessToken: string;
  refreshToken: string;
  /** epoch seconds */
  expiresAt: number;
}

type Kind = 'read' | 'write';

function credentialsOf(ctx: ConnectorContext): StravaCredentials {
  const c = ctx.credentials;
  const accessToken = str(c.accessToken);
  const refreshToken = str(c.refreshToken);
  const expiresAt = num(c.expiresAt);
  if (accessToken === undefined || refreshToken === undefined || expiresAt === undefined) {
    throw new AuthRevokedError(SERVICE, 'stored credentials are incomplete');
  }
  return { accessToken, refreshToken, expiresAt };
}

/** Strava's own usage figures, "15-minute,daily". */
function parsePair(value: string | null): [number, number] | undefined {
  if (value === null) return undefined;
  const parts = value.split(',').map((p) => Number(p.trim()));
  if (parts.length !== 2 || parts.some((n) => !Number.isFinite(n))) return undefined;
  return [parts[0]!, parts[1]!];
}

export function nextQuarterHour(now: number): number {
  return Math.floor(now / QUARTER_HOUR_MS) * QUARTER_HOUR_MS + QUARTER_HOUR_MS;
}

export function nextUtcMidnight(now: number): number {
  return Math.floor(now / DAY_MS) * DAY_MS + DAY_MS;
}

function duplicateId(error: string | undefined): string | undefined {
  if (error === undefined) return undefined;
  return /duplicate of activity (\d+)/i.exec(error)?.[1];
}

/** Strava API v3 (see service-apis.md §1). */
export class StravaConnector implements ServiceConnector {
  readonly id = 'strava' as const;
  readonly name = 'Strava';
  readonly auth: AuthSpec;
  readonly capabilities: ServiceCapabilities = {
    supplies: true,
    receives: true,
    acceptedFormats: ['fit', 'tcx', 'gpx'],
    acceptedTypes: STRAVA_ACCEPTED_TYPES,
    acceptsStationary: true,
    acceptsNonGps: true,
    partialSyncTrigger: 'webhook',
    exhaustiveListing: true,
  };

  private readonly base: string;
  private readonly api: string;
  private readonly http: HttpClient;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly pollSchedule: readonly number[];
  private readonly buckets: Record<'short' | 'daily' | 'readShort' | 'readDaily', RateBucket>;

  constructor(
    private readonly options: StravaConnectorOptions,
    private readonly deps: ConnectorDeps,
  ) {
    this.base = trimSlash(options.baseUrl);
    this.api = `${this.base}/api/v3`;
    this.http = deps.http ?? new HttpClient(SERVICE, { observer: deps.observer });
    this.now = deps.now ?? Date.now;
    this.sleep = deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.pollSchedule = options.uploadPollScheduleMs ?? [1000, 2000, 4000, 8000, 8000, 8000];
    const l: StravaLimits = { shortTerm: 200, daily: 2000, readShortTerm: 100, readDaily: 1000, ...options.limits };
    this.buckets = {
      short: { key: 'strava:15m', capacity: l.shortTerm, windowMs: QUARTER_HOUR_MS, scope: 'global' },
      daily: { key: 'strava:day', capacity: l.daily, windowMs: DAY_MS, scope: 'global' },
      readShort: { key: 'strava:read:15m', capacity: l.readShortTerm, windowMs: QUARTER_HOUR_MS, scope: 'global' },
      readDaily: { key: 'strava:read:day', capacity: l.readDaily, windowMs: DAY_MS, scope: 'global' },
    };
    this.auth = {
      kind: 'oauth2',
      authorizationURL: `${this.base}/oauth/authorize`,
      tokenURL: `${this.base}/oauth/token`,
      scope: ['activity:read_all', 'activity:write'],
      scopeSeparator: ',',
      authorizationParams: { approval_prompt: 'auto' },
      clientId: options.clientId,
      clientSecret: options.clientSecret,
    };
  }

  completeOAuth(accessToken: string, refreshToken: string | undefined, params: JsonObject): AuthorizedAccount {
    const athlete = isJsonObject(params.athlete) ? params.athlete : {};
    const athleteId = idString(athlete.id);
    const expiresAt = num(params.expires_at) ?? Math.floor(this.now() / 1000) + (num(params.expires_in) ?? 21600);
    if (athleteId === undefined || refreshToken === undefined) {
      throw new PermanentUpstreamError(SERVICE, 'bad_response', 'token response lacks the athlete or refresh token');
    }
    const scope = str(params.scope);
    if (scope !== undefined && !scope.split(',').includes('activity:read_all')) {
      throw new PermanentUpstreamError(SERVICE, 'forbidden', 'the activity:read_all permission was not granted');
    }
    const name = [str(athlete.firstname), str(athlete.lastname)].filter((s) => s !== undefined).join(' ');
    return {
      externalUserId: athleteId,
      credentials: { accessToken, refreshToken, expiresAt },
      displayName: name === '' ? undefined : name,
    };
  }

  async refreshCredentials(ctx: ConnectorContext): Promise<void> {
    await this.accessToken(ctx);
  }

  /** A valid access token, refreshed (and the rotated refresh token persisted) when it expires within 60 s. */
  private async accessToken(ctx: ConnectorContext): Promise<string> {
    const creds = credentialsOf(ctx);
    if (creds.expiresAt * 1000 - this.now() > REFRESH_MARGIN_MS) return creds.accessToken;
    const res = await this.http.request({
      method: 'POST',
      url: `${this.base}/oauth/token`,
      operation: 'token_refresh',
      body: new URLSearchParams({
        client_id: this.options.clientId ?? '',
        client_secret: this.options.clientSecret ?? '',
        grant_type: 'refresh_token',
        refresh_token: creds.refreshToken,
      }),
      signal: ctx.signal,
    });
    if (res.status === 400 || res.status === 401) throw new AuthRevokedError(SERVICE, 'the refresh token was rejected');
    this.throwForStatus(res, 'token_refresh', []);
    const body = responseObject(SERVICE, res, 'token_refresh');
    const accessToken = str(body.access_token);
    const expiresAt = num(body.expires_at);
    if (accessToken === undefined || expiresAt === undefined) {
      throw new PermanentUpstreamError(SERVICE, 'bad_response', 'token refresh response lacks access_token');
    }
    const next = {
      ...ctx.credentials,
      accessToken,
      refreshToken: str(body.refresh_token) ?? creds.refreshToken,
      expiresAt,
    };
    await ctx.saveCredentials(next);
    // Later calls in this sync read the rotated token from ctx.
    ctx.credentials = next;
    return accessToken;
  }

  private bucketsFor(kind: Kind): RateBucket[] {
    const b = this.buckets;
    return kind === 'read' ? [b.short, b.daily, b.readShort, b.readDaily] : [b.short, b.daily];
  }

  /** One API call: pace on the shared budget, authorise, send, learn from the usage headers, map errors. */
  private async call(ctx: ConnectorContext, kind: Kind, req: Omit<HttpRequest, 'url'> & { path: string }) {
    const buckets = this.bucketsFor(kind);
    for (let attempt = 1; ; attempt++) {
      await this.deps.limiter.acquire(buckets, {
        service: SERVICE,
        maxWaitMs: this.options.maxPaceMs ?? DEFAULT_MAX_PACE_MS,
        signal: ctx.signal,
      });
      const token = await this.accessToken(ctx);
      const res = await this.http.request({
        ...req,
        url: `${this.api}${req.path}`,
        headers: { ...req.headers, Authorization: `Bearer ${token}` },
        signal: ctx.signal,
      });
      await this.observeUsage(res, kind);
      if (res.status === 429) {
        const wait = this.retryAfter(res);
        await this.deps.limiter.block(buckets, wait);
        if (attempt < MAX_RATE_LIMITED_ATTEMPTS && wait <= (this.options.maxPaceMs ?? DEFAULT_MAX_PACE_MS)) continue;
        throw new RateLimitedError(SERVICE, wait, 'global');
      }
      this.throwForStatus(res, req.operation, []);
      return res;
    }
  }

  private retryAfter(res: HttpResponse): number {
    const now = this.now();
    const usage = parsePair(res.headers.get('x-ratelimit-usage'));
    const limit = parsePair(res.headers.get('x-ratelimit-limit'));
    const readUsage = parsePair(res.headers.get('x-readratelimit-usage'));
    const readLimit = parsePair(res.headers.get('x-readratelimit-limit'));
    const dailyExhausted =
      (usage !== undefined && limit !== undefined && usage[1] >= limit[1]) ||
      (readUsage !== undefined && readLimit !== undefined && readUsage[1] >= readLimit[1]);
    return (dailyExhausted ? nextUtcMidnight(now) : nextQuarterHour(now)) - now;
  }

  private async observeUsage(res: HttpResponse, kind: Kind): Promise<void> {
    const now = this.now();
    const toQuarter = nextQuarterHour(now) - now;
    const toMidnight = nextUtcMidnight(now) - now;
    const pairs: [string, string, RateBucket, RateBucket][] = [
      ['x-ratelimit-usage', 'x-ratelimit-limit', this.buckets.short, this.buckets.daily],
    ];
    if (kind === 'read') {
      pairs.push(['x-readratelimit-usage', 'x-readratelimit-limit', this.buckets.readShort, this.buckets.readDaily]);
    }
    for (const [usageName, limitName, shortBucket, dailyBucket] of pairs) {
      const usage = parsePair(res.headers.get(usageName));
      const limit = parsePair(res.headers.get(limitName));
      if (usage === undefined || limit === undefined) continue;
      await this.deps.limiter.observe(shortBucket, limit[0] - usage[0], toQuarter);
      await this.deps.limiter.observe(dailyBucket, limit[1] - usage[1], toMidnight);
    }
  }

  private throwForStatus(res: HttpResponse, operation: string, okExtra: number[]): void {
    const s = res.status;
    if ((s >= 200 && s < 300) || okExtra.includes(s)) return;
    if (s === 401) throw new AuthRevokedError(SERVICE);
    if (s === 408 || s >= 500) {
      throw new UpstreamUnavailableError(SERVICE, `${operation} answered HTTP ${s}`, s);
    }
    if (s === 429) throw new RateLimitedError(SERVICE, this.retryAfter(res), 'global');
    const body = res.json();
    const message = isJsonObject(body) ? str(body.message) : undefined;
    if (s === 403) {
      throw new PermanentUpstreamError(SERVICE, 'forbidden', `${operation}: ${message ?? 'forbidden'}`, s);
    }
    throw new PermanentUpstreamError(SERVICE, 'rejected', `${operation}: HTTP ${s} ${message ?? ''}`.trim(), s);
  }

  async listActivities(ctx: ConnectorContext, options: ListOptions): Promise<ListPage> {
    const page = options.cursor === undefined ? 1 : Number(options.cursor);
    if (!Number.isInteger(page) || page < 1) {
      throw new PermanentUpstreamError(SERVICE, 'rejected', `invalid listing cursor ${options.cursor}`);
    }
    const after = !options.exhaustive && options.after !== undefined ? Math.floor(options.after / 1000) : undefined;
    const res = await this.call(ctx, 'read', {
      method: 'GET',
      path: '/athlete/activities',
      operation: 'list',
      query: { per_page: PAGE_SIZE, page, after },
    });
    const body = responseJson(SERVICE, res, 'list');
    if (!Array.isArray(body)) throw new PermanentUpstreamError(SERVICE, 'bad_response', 'list: expected an array');
    const page_ = { activities: [] as ActivitySummary[], exclusions: [] as ListPage['exclusions'] };
    for (const item of body) {
      if (!isJsonObject(item)) continue;
      const summary = this.toSummary(item);
      if (summary === undefined) {
        page_.exclusions.push({
          remoteId: idString(item.id) ?? 'unknown',
          reason: 'bad_summary',
          message: 'activity without id or start date',
          permanent: true,
        });
      } else {
        page_.activities.push(summary);
      }
    }
    // Strava can return short pages mid-listing; only an empty page ends it.
    return { ...page_, cursor: body.length === 0 ? undefined : String(page + 1) };
  }

  private toSummary(a: Record<string, unknown>): ActivitySummary | undefined {
    const remoteId = idString(a.id);
    if (remoteId === undefined) return undefined;
    let parsed: ParsedStart;
    try {
      parsed = parseStravaStart({
        start_date: str(a.start_date),
        start_date_local: str(a.start_date_local),
        timezone: str(a.timezone),
        utc_offset: num(a.utc_offset),
      });
    } catch {
      return undefined;
    }
    const start = parsed.start;
    const elapsed = num(a.elapsed_time);
    const manual = bool(a.manual) ?? false;
    const startLatLng = a.start_latlng;
    const externalId = str(a.external_id);
    return {
      remoteId,
      start,
      end: elapsed === undefined ? undefined : start + elapsed * 1000,
      timezone: parsed.timezone,
      naive: parsed.naive ? true : undefined,
      type: stravaTypeToActivityType(a.sport_type, a.type),
      name: str(a.name),
      private: bool(a.private),
      stationary: manual,
      gps: manual ? false : Array.isArray(startLatLng) ? startLatLng.length === 2 : undefined,
      trainer: bool(a.trainer),
      distance: num(a.distance),
      externalIds: externalId === undefined || externalId === '' ? undefined : [externalId],
      originalFormats: [],
      complete: true,
    };
  }

  async downloadActivity(ctx: ConnectorContext, summary: ActivitySummary): Promise<Activity> {
    const id = encodeURIComponent(summary.remoteId);
    const detailRes = await this.callFound(ctx, summary.remoteId, {
      method: 'GET',
      path: `/activities/${id}`,
      operation: 'get_activity',
    });
    const detail = responseObject(SERVICE, detailRes, 'get_activity');
    const base = this.toSummary(detail);
    if (base === undefined) throw new PermanentUpstreamError(SERVICE, 'bad_response', 'activity without start date');
    const manual = bool(detail.manual) ?? false;
    let streams: Record<string, unknown[]> = {};
    if (!manual) {
      try {
        const streamRes = await this.callFound(ctx, summary.remoteId, {
          method: 'GET',
          path: `/activities/${id}/streams`,
          operation: 'get_streams',
          query: { keys: STREAM_KEYS, key_by_type: 'true' },
        });
        streams = parseStreams(responseJson(SERVICE, streamRes, 'get_streams'));
      } catch (err) {
        // The activity exists (we just read it) but has no streams: keep its summary data.
        if (!(err instanceof RemoteNotFoundError)) throw err;
      }
    }
    return buildActivity(detail, base, streams);
  }

  private async callFound(ctx: ConnectorContext, remoteId: string, req: Omit<HttpRequest, 'url'> & { path: string }) {
    try {
      return await this.call(ctx, 'read', req);
    } catch (err) {
      if (err instanceof PermanentUpstreamError && err.status === 404) throw new RemoteNotFoundError(SERVICE, remoteId);
      throw err;
    }
  }

  async uploadActivity(ctx: ConnectorContext, activity: Activity, options: UploadOptions = {}): Promise<UploadResult> {
    if (options.resumeUploadId !== undefined) return this.pollUpload(ctx, options.resumeUploadId, options.externalId);
    if (activity.stationary === true || activity.samples.length === 0) return this.createManual(ctx, activity);
    const externalId = options.externalId ?? `tributary_${activity.start}`;
    const file = encodeForUpload(this.deps.codec, activity, this.capabilities.acceptedFormats);
    const form = new FormData();
    form.set('file', new Blob([file.bytes]), `${externalId}.${file.format}`);
    form.set('data_type', file.format);
    form.set('external_id', externalId);
    if (activity.name !== undefined) form.set('name', activity.name);
    if (activity.notes !== undefined) form.set('description', activity.notes);
    form.set('trainer', activity.trainer === true ? '1' : '0');
    const res = await this.call(ctx, 'write', { method: 'POST', path: '/uploads', operation: 'upload', body: form });
    const upload = responseObject(SERVICE, res, 'upload');
    const done = this.uploadOutcome(upload);
    if (done !== undefined) return done;
    const uploadId = idString(upload.id_str) ?? idString(upload.id);
    if (uploadId === undefined) throw new PermanentUpstreamError(SERVICE, 'bad_response', 'upload without id');
    return this.pollUpload(ctx, uploadId, externalId);
  }

  /** The upload's final result, or undefined while Strava is still processing it. */
  private uploadOutcome(upload: Record<string, unknown>): UploadResult | undefined {
    const error = str(upload.error);
    const dup = duplicateId(error);
    if (dup !== undefined) throw new DuplicateAtDestinationError(SERVICE, dup);
    if (error !== undefined && error !== '') {
      throw new PermanentUpstreamError(SERVICE, 'corrupt', `upload failed: ${error.slice(0, 300)}`);
    }
    const activityId = idString(upload.activity_id);
    if (activityId !== undefined) return { remoteId: activityId };
    if (str(upload.status) === 'The created activity has been deleted.') {
      throw new PermanentUpstreamError(SERVICE, 'deleted', 'the uploaded activity was deleted at Strava');
    }
    return undefined;
  }

  /** Polls with a bounded schedule; when it runs out the job retries later with `resumeUploadId`. */
  private async pollUpload(ctx: ConnectorContext, uploadId: string, externalId?: string): Promise<UploadResult> {
    for (const wait of [0, ...this.pollSchedule]) {
      if (wait > 0) await this.sleep(wait);
      const res = await this.call(ctx, 'read', {
        method: 'GET',
        path: `/uploads/${encodeURIComponent(uploadId)}`,
        operation: 'upload_status',
      });
      const done = this.uploadOutcome(responseObject(SERVICE, res, 'upload_status'));
      if (done !== undefined) return done;
    }
    throw new UploadStillProcessingError(SERVICE, uploadId, externalId);
  }

  private async createManual(ctx: ConnectorContext, activity: Activity): Promise<UploadResult> {
    const zone = activity.naive === true ? undefined : activity.timezone;
    const form = new URLSearchParams({
      name: activity.name ?? ACTIVITY_NAME_FALLBACK,
      sport_type: activityTypeToStrava(ancestry(activity.type)),
      start_date_local: localIso(activity.start, zone),
      elapsed_time: String(Math.max(1, Math.round((activity.end - activity.start) / 1000))),
    });
    if (activity.stats.distance !== undefined) form.set('distance', String(activity.stats.distance));
    if (activity.notes !== undefined) form.set('description', activity.notes);
    if (activity.trainer === true) form.set('trainer', '1');
    const res = await this.call(ctx, 'write', { method: 'POST', path: '/activities', operation: 'create', body: form });
    const id = idString(responseObject(SERVICE, res, 'create').id);
    if (id === undefined) throw new PermanentUpstreamError(SERVICE, 'bad_response', 'created activity without id');
    return { remoteId: id };
  }

  async revoke(ctx: ConnectorContext): Promise<void> {
    let accessToken: string;
    try {
      // An expired token cannot deauthorize; refresh first so the grant really ends at Strava.
      accessToken = await this.accessToken(ctx);
    } catch (err) {
      if (err instanceof AuthRevokedError) return;
      throw err;
    }
    const res = await this.http.request({
      method: 'POST',
      url: `${this.base}/oauth/deauthorize`,
      operation: 'deauthorize',
      headers: { Authorization: `Bearer ${accessToken}` },
      signal: ctx.signal,
    });
    // Already revoked (401) is the state we wanted.
    if (res.status === 401) return;
    this.throwForStatus(res, 'deauthorize', []);
  }

  verifySubscription(query: Record<string, string | undefined>): WebhookVerification {
    const expected = this.options.webhookVerifyToken;
    const challenge = query['hub.challenge'];
    if (query['hub.mode'] !== 'subscribe' || challenge === undefined) {
      throw new WebhookRejectedError(SERVICE, 'not a subscription handshake');
    }
    if (expected === undefined || query['hub.verify_token'] !== expected) {
      throw new WebhookRejectedError(SERVICE, 'verify token mismatch');
    }
    return { status: 200, contentType: 'application/json', body: JSON.stringify({ 'hub.challenge': challenge }) };
  }

  parseWebhook(_headers: HeaderBag, rawBody: Uint8Array | string): WebhookEvent[] {
    const text = typeof rawBody === 'string' ? rawBody : new TextDecoder().decode(rawBody);
    let body: unknown;
    try {
      body = parseJsonLossless(text);
    } catch {
      throw new WebhookRejectedError(SERVICE, 'body is not JSON');
    }
    if (!isJsonObject(body)) throw new WebhookRejectedError(SERVICE, 'body is not an object');
    const owner = idString(body.owner_id);
    const objectId = idString(body.object_id);
    const aspect = str(body.aspect_type);
    if (owner === undefined || objectId === undefined) throw new WebhookRejectedError(SERVICE, 'event without owner');
    if (body.object_type === 'athlete') {
      const updates = isJsonObject(body.updates) ? body.updates : {};
      const authorized = updates.authorized;
      if (authorized === 'false' || authorized === false) return [{ externalUserId: owner, kind: 'deauthorized' }];
      return [];
    }
    if (body.object_type !== 'activity') return [];
    const kind =
      aspect === 'create'
        ? 'activity_created'
        : aspect === 'delete'
          ? 'activity_deleted'
          : aspect === 'update'
            ? 'activity_updated'
            : undefined;
    return kind === undefined ? [] : [{ externalUserId: owner, kind, objectId }];
  }
}

const ACTIVITY_NAME_FALLBACK = 'Activity';

/** Wall-clock ISO string ("2024-05-01T08:00:00") in the zone, UTC when none. */
function localIso(epochMs: number, zone: string | undefined): string {
  let offsetMs = 0;
  if (zone !== undefined) {
    try {
      const parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })
        .formatToParts(new Date(epochMs))
        .find((p) => p.type === 'timeZoneName')?.value;
      const m = parts === undefined ? null : /GMT([+-])(\d{2}):(\d{2})/.exec(parts);
      if (m !== null) offsetMs = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60_000;
    } catch {
      offsetMs = 0;
    }
  }
  return new Date(epochMs + offsetMs).toISOString().slice(0, 19);
}

/** Both stream shapes: object keyed by type (key_by_type=true) and the legacy array of {type,data}. */
export function parseStreams(body: unknown): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  if (Array.isArray(body)) {
    for (const s of body) {
      if (isJsonObject(s) && typeof s.type === 'string' && Array.isArray(s.data)) out[s.type] = s.data;
    }
  } else if (isJsonObject(body)) {
    for (const [k, s] of Object.entries(body)) if (isJsonObject(s) && Array.isArray(s.data)) out[k] = s.data;
  }
  return out;
}

function statsOf(a: Record<string, unknown>): ActivityStats {
  const stats: ActivityStats = {
    distance: num(a.distance),
    elapsedTime: num(a.elapsed_time),
    movingTime: num(a.moving_time),
    energy: num(a.calories),
  };
  const avgSpeed = num(a.average_speed);
  const maxSpeed = num(a.max_speed);
  if (avgSpeed !== undefined || maxSpeed !== undefined) stats.speed = { avg: avgSpeed, max: maxSpeed };
  const avgHr = num(a.average_heartrate);
  const maxHr = num(a.max_heartrate);
  if (avgHr !== undefined || maxHr !== undefined) stats.heartRate = { avg: avgHr, max: maxHr };
  const avgW = num(a.average_watts);
  const maxW = num(a.max_watts);
  if (avgW !== undefined || maxW !== undefined) stats.power = { avg: avgW, max: maxW };
  const gain = num(a.total_elevation_gain);
  const hi = num(a.elev_high);
  const lo = num(a.elev_low);
  if (gain !== undefined || hi !== undefined || lo !== undefined) stats.elevation = { gain, max: hi, min: lo };
  const temp = num(a.average_temp);
  if (temp !== undefined) stats.temperature = { avg: temp };
  const cadence = num(a.average_cadence);
  if (cadence !== undefined) stats.cadence = { avg: cadence };
  for (const k of Object.keys(stats) as (keyof ActivityStats)[]) if (stats[k] === undefined) delete stats[k];
  return stats;
}

function buildActivity(
  detail: Record<string, unknown>,
  base: ActivitySummary,
  streams: Record<string, unknown[]>,
): Activity {
  const start = base.start;
  const end = base.end ?? start;
  const onFoot = familyOf(base.type) === 'on_foot';
  const time = streams.time ?? [];
  const samples: Sample[] = [];
  let wasMoving = true;
  for (let i = 0; i < time.length; i++) {
    const t = num(time[i]);
    if (t === undefined) continue;
    const s: Sample = { time: start + t * 1000 };
    const ll = streams.latlng?.[i];
    if (Array.isArray(ll) && ll.length === 2) {
      const lat = num(ll[0]);
      const lon = num(ll[1]);
      if (lat !== undefined && lon !== undefined) Object.assign(s, { lat, lon });
    }
    const set = (key: keyof Sample, stream: string, scale = 1): void => {
      const v = num(streams[stream]?.[i]);
      if (v !== undefined) (s as unknown as Record<string, number>)[key] = v * scale;
    };
    set('altitude', 'altitude');
    set('heartRate', 'heartrate');
    // Strava's run cadence counts one foot; the model counts both.
    if (onFoot) set('runCadence', 'cadence', 2);
    else set('cadence', 'cadence');
    set('power', 'watts');
    set('temperature', 'temp');
    set('distance', 'distance');
    set('speed', 'velocity_smooth');
    const moving = streams.moving?.[i];
    if (typeof moving === 'boolean') {
      if (i === 0) s.marker = 'start';
      else if (wasMoving && !moving) s.marker = 'pause';
      else if (!wasMoving && moving) s.marker = 'resume';
      wasMoving = moving;
    }
    samples.push(s);
  }
  if (samples.length > 0) {
    const last = samples[samples.length - 1]!;
    if (last.marker === undefined) last.marker = 'end';
  }
  const stats = statsOf(detail);
  const laps: Lap[] = [];
  if (Array.isArray(detail.laps)) {
    for (const l of detail.laps) {
      if (!isJsonObject(l)) continue;
      const ls = Date.parse(str(l.start_date) ?? '');
      const le = num(l.elapsed_time);
      if (Number.isNaN(ls) || le === undefined) continue;
      laps.push({ start: ls, end: ls + le * 1000, trigger: 'manual', stats: statsOf(l) });
    }
  }
  if (laps.length === 0) laps.push({ start, end, trigger: 'session_end', stats });
  const hasGps = samples.some((s) => s.lat !== undefined);
  const deviceName = str(detail.device_name);
  return {
    start,
    end,
    timezone: base.timezone,
    naive: base.naive,
    type: base.type,
    name: base.name,
    notes: str(detail.description) ?? undefined,
    private: base.private,
    stationary: base.stationary,
    gps: base.stationary === true ? false : hasGps,
    trainer: base.trainer,
    device: deviceName === undefined ? undefined : { name: deviceName },
    laps,
    samples,
    stats,
  };
}
