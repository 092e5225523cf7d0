import { createHash, randomInt } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import {
  SimFileError,
  decodeTrack,
  formatFromName,
  maybeGunzip,
  type SimFormat,
  type SimTrack,
} from '../core/activity-file.util';
import { encodePolyline, formatLocal, formatUtc, offsetSeconds, zoneForTrack } from '../core/geo.util';
import { IdSequence, randomHex } from '../core/ids.util';
import {
  bearerToken,
  escapeHtml,
  formBody,
  isRecord,
  jsonBody,
  multipartBody,
  queryString,
  rawBody,
} from '../core/http.util';
import { deliver, type DeliveryResult } from '../core/outbound.util';
import { runInBackground, serviceGate, type SandboxContext } from '../core/sandbox.context';
import { SandboxInputError, SandboxNotFoundError } from '../core/sandbox.error';
import { DEFAULT_STRAVA_SETTINGS, type StravaSettings } from './strava.settings';
import { maxOf, minOf } from '../core/stats.util';

export interface StravaAthlete {
  id: number;
  username: string;
  firstname: string;
  lastname: string;
  /** IANA zone used for manual activities and tracks without GPS. */
  timezone: string;
  createdAt: number;
}

export interface StravaActivity {
  id: number;
  athleteId: number;
  name: string;
  sportType: string;
  track: SimTrack;
  timezone: string;
  private: boolean;
  manual: boolean;
  trainer: boolean;
  commute: boolean;
  hideFromHome: boolean;
  description: string | null;
  externalId: string | null;
  uploadId: number | null;
  deviceName: string | null;
  gearId: string | null;
  fileHash?: string;
}

interface StravaToken {
  accessToken: string;
  refreshToken: string;
  athleteId: number;
  clientId: string;
  scopes: string[];
  /** epoch seconds */
  expiresAt: number;
}

interface AuthCode {
  athleteId: number;
  clientId: string;
  scopes: string[];
  expiresAt: number;
  used: boolean;
}

interface StravaUpload {
  id: number;
  athleteId: number;
  externalIdSent: string | null;
  filename: string;
  dataType: string;
  bytes: Buffer;
  pollsLeft: number;
  status: string;
  error: string | null;
  activityId: number | null;
  done: boolean;
  fields: Record<string, string>;
}

interface PushSubscription {
  id: number;
  applicationId: number;
  clientId: string;
  callbackUrl: string;
  verifyToken: string;
  createdAt: number;
  updatedAt: number;
}

interface RateWindow {
  quarter: number;
  day: number;
  overall15: number;
  overallDay: number;
  read15: number;
  readDay: number;
}

export const STRAVA_STATUS = {
  processing: 'Your activity is still being processed.',
  ready: 'Your activity is ready.',
  error: 'There was an error processing your activity.',
  deleted: 'The created activity has been deleted.',
} as const;

const UPLOAD_DATA_TYPES = ['fit', 'fit.gz', 'tcx', 'tcx.gz', 'gpx', 'gpx.gz'];
const LEGACY_TYPES = new Set(
  'AlpineSki BackcountrySki Canoeing Crossfit EBikeRide Elliptical Golf Handcycle Hike IceSkate InlineSkate Kayaking Kitesurf NordicSki Ride RockClimbing RollerSki Rowing Run Sail Skateboard Snowboard Snowshoe Soccer StairStepper StandUpPaddling Surfing Swim Velomobile VirtualRide VirtualRun Walk WeightTraining Wheelchair Windsurf Workout Yoga'.split(
    ' ',
  ),
);
const LEGACY_MAP: Record<string, string> = {
  MountainBikeRide: 'Ride',
  GravelRide: 'Ride',
  EMountainBikeRide: 'EBikeRide',
  TrailRun: 'Run',
  VirtualRow: 'Rowing',
};
const STREAM_KEYS = [
  'time',
  'distance',
  'latlng',
  'altitude',
  'velocity_smooth',
  'heartrate',
  'cadence',
  'watts',
  'temp',
  'moving',
  'grade_smooth',
] as const;
type StreamKey = (typeof STREAM_KEYS)[number];

export function legacyType(sportType: string): string {
  return LEGACY_MAP[sportType] ?? (LEGACY_TYPES.has(sportType) ? sportType : 'Workout');
}

function fault(message: string, resource: string, field: string, code: string): Record<string, unknown> {
  return { message, errors: [{ resource, field, code }] };
}

/** Strava API v3 + OAuth simulator (service-apis.md §1). */
export class StravaSimulator {
  settings: StravaSettings;
  readonly athletes = new Map<number, StravaAthlete>();
  readonly activities = new Map<number, StravaActivity>();
  readonly uploads = new Map<number, StravaUpload>();
  readonly apps = new Map<string, string>();
  private readonly tokens = new Map<string, StravaToken>();
  private readonly refreshTokens = new Map<string, StravaToken>();
  private readonly codes = new Map<string, AuthCode>();
  private subscription: PushSubscription | undefined;
  private readonly rate = new Map<string, RateWindow>();
  // Account ids start at a random point per sandbox: hubs (and test suites) sharing one database with several
  // sandboxes would otherwise see the same athlete id for different people.
  private readonly athleteIds = new IdSequence(134_815 + randomInt(0, 1_000_000) * 1_000);
  private readonly activityIds = new IdSequence(8_319_193_780);
  private readonly uploadIds = new IdSequence(8_919_698_041);
  private readonly subscriptionIds = new IdSequence(131_300);

  constructor(
    private readonly ctx: SandboxContext,
    settings: Partial<StravaSettings> = {},
  ) {
    this.settings = { ...DEFAULT_STRAVA_SETTINGS, ...settings };
    this.apps.set(this.settings.clientId, this.settings.clientSecret);
  }

  reset(): void {
    for (const map of [
      this.athletes,
      this.activities,
      this.uploads,
      this.tokens,
      this.refreshTokens,
      this.codes,
      this.rate,
    ]) {
      map.clear();
    }
    this.apps.clear();
    this.apps.set(this.settings.clientId, this.settings.clientSecret);
    this.subscription = undefined;
    for (const seq of [this.athleteIds, this.activityIds, this.uploadIds, this.subscriptionIds]) seq.reset();
  }

  // ---------------------------------------------------------------- control-side operations

  createAthlete(input: Partial<StravaAthlete> & { username?: string }): StravaAthlete {
    const id = input.id ?? this.athleteIds.take();
    this.athleteIds.bump(id);
    const athlete: StravaAthlete = {
      id,
      username: input.username ?? `athlete${id}`,
      firstname: input.firstname ?? 'Sandbox',
      lastname: input.lastname ?? `Athlete ${id}`,
      timezone: input.timezone ?? 'UTC',
      createdAt: this.ctx.clock.now(),
    };
    this.athletes.set(id, athlete);
    return athlete;
  }

  findAthlete(ref: string | number): StravaAthlete | undefined {
    const n = Number(ref);
    if (Number.isInteger(n) && this.athletes.has(n)) return this.athletes.get(n);
    return [...this.athletes.values()].find((a) => a.username === String(ref));
  }

  requireAthlete(ref: unknown): StravaAthlete {
    const athlete = typeof ref === 'string' || typeof ref === 'number' ? this.findAthlete(ref) : undefined;
    if (athlete === undefined) throw new SandboxNotFoundError('Strava athlete', String(ref));
    return athlete;
  }

  /** Mints a token pair directly, skipping the browser part of OAuth (tests and seeding). */
  issueToken(athleteId: number, scopes: string[], clientId = this.settings.clientId, ttlSeconds?: number): StravaToken {
    const token: StravaToken = {
      accessToken: randomHex(20),
      refreshToken: randomHex(20),
      athleteId,
      clientId,
      scopes: normaliseScopes(scopes),
      expiresAt: this.ctx.clock.nowSeconds() + (ttlSeconds ?? this.settings.accessTokenTtlSeconds),
    };
    this.tokens.set(token.accessToken, token);
    this.refreshTokens.set(token.refreshToken, token);
    return token;
  }

  /** Revokes every token of an athlete (what deauthorization does) and optionally sends the athlete webhook. */
  revokeAthlete(athleteId: number, clientId?: string, notify = true): number {
    let revoked = 0;
    for (const [key, token] of [...this.tokens]) {
      if (token.athleteId === athleteId && (clientId === undefined || token.clientId === clientId)) {
        this.tokens.delete(key);
        this.refreshTokens.delete(token.refreshToken);
        revoked++;
      }
    }
    for (const [key, token] of [...this.refreshTokens]) {
      if (token.athleteId === athleteId && (clientId === undefined || token.clientId === clientId)) {
        this.refreshTokens.delete(key);
      }
    }
    if (notify) {
      this.autoEvent({
        object_type: 'athlete',
        object_id: athleteId,
        aspect_type: 'update',
        updates: { authorized: 'false' },
        owner_id: athleteId,
      });
    }
    return revoked;
  }

  /** Expires the access tokens of an athlete now (refresh tokens keep working). */
  expireTokens(athleteId?: number): number {
    let n = 0;
    for (const token of this.tokens.values()) {
      if (athleteId === undefined || token.athleteId === athleteId) {
        token.expiresAt = this.ctx.clock.nowSeconds() - 1;
        n++;
      }
    }
    return n;
  }

  addActivity(
    athleteId: number,
    track: SimTrack,
    meta: {
      name?: string;
      sportType?: string;
      private?: boolean;
      manual?: boolean;
      trainer?: boolean;
      commute?: boolean;
      description?: string;
      externalId?: string | null;
      uploadId?: number | null;
      timezone?: string;
      fileHash?: string;
      id?: number;
    } = {},
    notify = true,
  ): StravaActivity {
    const athlete = this.requireAthlete(athleteId);
    const id = meta.id ?? this.activityIds.take();
    this.activityIds.bump(id);
    const timezone = meta.timezone ?? zoneForTrack(track, athlete.timezone);
    const sportType = meta.sportType ?? track.sport;
    const activity: StravaActivity = {
      id,
      athleteId,
      name: meta.name ?? defaultName(sportType, track.start, timezone),
      sportType,
      track,
      timezone,
      private: meta.private ?? false,
      manual: meta.manual ?? false,
      trainer: meta.trainer ?? false,
      commute: meta.commute ?? false,
      hideFromHome: false,
      description: meta.description ?? null,
      externalId: meta.externalId ?? null,
      uploadId: meta.uploadId ?? null,
      deviceName: track.deviceName ?? null,
      gearId: null,
      fileHash: meta.fileHash,
    };
    this.activities.set(id, activity);
    if (notify) {
      this.autoEvent({
        object_type: 'activity',
        object_id: id,
        aspect_type: 'create',
        updates: {},
        owner_id: athleteId,
      });
    }
    return activity;
  }

  deleteActivity(id: number, notify = true): boolean {
    const activity = this.activities.get(id);
    if (activity === undefined) return false;
    this.activities.delete(id);
    for (const upload of this.uploads.values()) {
      if (upload.activityId === id) {
        upload.status = STRAVA_STATUS.deleted;
        upload.activityId = null;
      }
    }
    if (notify) {
      this.autoEvent({
        object_type: 'activity',
        object_id: id,
        aspect_type: 'delete',
        updates: {},
        owner_id: activity.athleteId,
      });
    }
    return true;
  }

  setRateUsage(clientId: string, usage: Partial<Omit<RateWindow, 'quarter' | 'day'>>): void {
    const window = this.window(clientId);
    Object.assign(window, usage);
  }

  rateUsage(clientId = this.settings.clientId): RateWindow {
    return { ...this.window(clientId) };
  }

  getSubscription(): PushSubscription | undefined {
    return this.subscription;
  }

  setSubscription(callbackUrl: string, verifyToken = 'sandbox'): PushSubscription {
    const now = this.ctx.clock.now();
    this.subscription = {
      id: this.subscriptionIds.take(),
      applicationId: Number(this.settings.clientId) || 24523,
      clientId: this.settings.clientId,
      callbackUrl,
      verifyToken,
      createdAt: now,
      updatedAt: now,
    };
    return this.subscription;
  }

  /** Sends a push event to the subscription (or `url`), with Strava's timeout and attempt count. */
  async sendEvent(event: Record<string, unknown>, url?: string): Promise<DeliveryResult> {
    const target = url ?? this.subscription?.callbackUrl;
    if (target === undefined) throw new SandboxInputError('No Strava push subscription; pass callbackUrl');
    const body = {
      aspect_type: event.aspect_type ?? 'create',
      event_time: event.event_time ?? this.ctx.clock.nowSeconds(),
      object_id: event.object_id,
      object_type: event.object_type ?? 'activity',
      owner_id: event.owner_id,
      subscription_id: event.subscription_id ?? this.subscription?.id ?? 0,
      updates: event.updates ?? {},
    };
    const result = await deliver(
      target,
      { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } },
      {
        timeoutMs: this.settings.webhookTimeoutMs,
        attempts: this.settings.webhookAttempts,
        retryDelayMs: this.settings.webhookRetryDelayMs,
      },
    );
    this.ctx.deliveries.push({
      ...result,
      service: 'strava',
      kind: `${JSON.stringify(body.object_type)}.${JSON.stringify(body.aspect_type)}`.replace(/"/g, ''),
      at: new Date(this.ctx.clock.now()).toISOString(),
    });
    return result;
  }

  private autoEvent(event: Record<string, unknown>): void {
    if (!this.settings.autoWebhooks || this.subscription === undefined) return;
    runInBackground(this.ctx, this.sendEvent(event));
  }

  // ---------------------------------------------------------------- HTTP

  router(): Router {
    const r = Router();
    r.use(
      serviceGate(this.ctx, {
        service: 'strava',
        mount: 'strava',
        accountFor: (req) => {
          const token = this.tokenFrom(req);
          return token === undefined ? undefined : String(token.athleteId);
        },
        rateLimited: (req, res) => {
          const clientId = this.tokenFrom(req)?.clientId ?? this.settings.clientId;
          const w = this.window(clientId);
          // The injected 429 shows an exhausted short window without touching the real counters.
          const shown15 = Math.max(w.overall15 + 1, this.settings.rateLimits.overall[0] + 1);
          this.setRateHeaders(res, clientId, {
            ...w,
            overall15: shown15,
            overallDay: Math.max(w.overallDay + 1, shown15),
          });
          res.status(429).json(fault('Rate Limit Exceeded', 'Application', 'rate limit', 'exceeded'));
        },
      }),
    );
    r.get(['/oauth/authorize', '/oauth/mobile/authorize'], (req, res) => this.authorizePage(req, res));
    r.post('/oauth/authorize', (req, res) => this.authorizeSubmit(req, res));
    r.post(['/oauth/token', '/api/v3/oauth/token'], (req, res) => this.token(req, res));
    r.post('/oauth/deauthorize', (req, res) => this.deauthorize(req, res));
    r.post('/api/v3/push_subscriptions', (req, res) => this.createSubscription(req, res));
    r.get('/api/v3/push_subscriptions', (req, res) => this.listSubscriptions(req, res));
    r.delete('/api/v3/push_subscriptions/:id', (req, res) => this.deleteSubscription(req, res));
    r.use('/api/v3', (req, res, next) => this.rateLimit(req, res, next));
    r.get('/api/v3/athlete', (req, res) => this.getAthlete(req, res));
    r.get('/api/v3/athlete/activities', (req, res) => this.listActivities(req, res));
    r.post('/api/v3/activities', (req, res) => this.createManual(req, res));
    r.get('/api/v3/activities/:id', (req, res) => this.getActivity(req, res));
    r.put('/api/v3/activities/:id', (req, res) => this.updateActivity(req, res));
    r.delete('/api/v3/activities/:id', (req, res) => this.deleteActivityRoute(req, res));
    r.get('/api/v3/activities/:id/streams', (req, res) => this.streams(req, res, queryString(req, 'keys')));
    r.get('/api/v3/activities/:id/streams/:types', (req, res) =>
      this.streams(req, res, String(req.params.types), false),
    );
    r.post('/api/v3/uploads', (req, res) => this.upload(req, res));
    r.get('/api/v3/uploads/:id', (req, res) => this.uploadStatus(req, res));
    r.use('/api/v3', (_req, res) => {
      res.status(404).json(fault('Record Not Found', 'resource', 'path', 'invalid'));
    });
    return r;
  }

  private authorizePage(req: Request, res: Response): void {
    const clientId = queryString(req, 'client_id') ?? '';
    const redirectUri = queryString(req, 'redirect_uri');
    if (!this.apps.has(clientId)) {
      res.status(400).json(fault('Bad Request', 'Application', 'client_id', 'invalid'));
      return;
    }
    if (redirectUri === undefined || queryString(req, 'response_type') !== 'code') {
      res
        .status(400)
        .json(
          fault('Bad Request', 'Application', redirectUri === undefined ? 'redirect_uri' : 'response_type', 'invalid'),
        );
      return;
    }
    const scope = queryString(req, 'scope') ?? 'read';
    const state = queryString(req, 'state');
    const auto = queryString(req, 'sandbox_athlete');
    if (auto !== undefined) {
      const athlete = this.findAthlete(auto);
      if (athlete === undefined) {
        res.status(404).type('text/plain').send(`sandbox: no Strava athlete ${auto}`);
        return;
      }
      const deny = queryString(req, 'sandbox_deny') === '1';
      this.redirectWithCode(res, {
        clientId,
        redirectUri,
        state,
        athleteId: athlete.id,
        scope: queryString(req, 'sandbox_scope') ?? scope,
        deny,
      });
      return;
    }
    const athletes = [...this.athletes.values()];
    const scopes = normaliseScopes(scope.split(','));
    const hidden = (name: string, value: string | undefined): string =>
      value === undefined ? '' : `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`;
    res.type('text/html').send(`<!doctype html>
<html><head><title>Authorize Application | Strava (sandbox)</title></head><body>
<h1>Authorize application ${escapeHtml(clientId)}</h1>
<form method="post" action="authorize">
${hidden('client_id', clientId)}${hidden('redirect_uri', redirectUri)}${hidden('state', state)}
<label>Athlete <select name="athlete">${athletes.map((a) => `<option value="${a.id}">${escapeHtml(`${a.firstname} ${a.lastname} (${a.username})`)}</option>`).join('')}</select></label>
<fieldset>${scopes.map((s) => `<label><input type="checkbox" name="scope" value="${escapeHtml(s)}" checked ${s === 'read' ? 'disabled' : ''}> ${escapeHtml(s)}</label><br>`).join('')}</fieldset>
<button type="submit" name="decision" value="authorize" id="authorize">Authorize</button>
<button type="submit" name="decision" value="cancel" id="cancel">Cancel</button>
</form></body></html>`);
  }

  private authorizeSubmit(req: Request, res: Response): void {
    const params = new URLSearchParams(rawText(req));
    const clientId = params.get('client_id') ?? '';
    const redirectUri = params.get('redirect_uri');
    if (!this.apps.has(clientId) || redirectUri === null) {
      res.status(400).json(fault('Bad Request', 'Application', 'client_id', 'invalid'));
      return;
    }
    const athlete = this.findAthlete(params.get('athlete') ?? '');
    if (athlete === undefined) {
      res.status(400).type('text/plain').send('sandbox: choose an athlete');
      return;
    }
    this.redirectWithCode(res, {
      clientId,
      redirectUri,
      state: params.get('state') ?? undefined,
      athleteId: athlete.id,
      scope: params.getAll('scope').join(','),
      deny: params.get('decision') === 'cancel',
    });
  }

  private redirectWithCode(
    res: Response,
    o: { clientId: string; redirectUri: string; state?: string; athleteId: number; scope: string; deny: boolean },
  ): void {
    let target: URL;
    try {
      target = new URL(o.redirectUri);
    } catch {
      res.status(400).json(fault('Bad Request', 'Application', 'redirect_uri', 'invalid'));
      return;
    }
    if (o.state !== undefined) target.searchParams.set('state', o.state);
    if (o.deny) {
      target.searchParams.set('error', 'access_denied');
    } else {
      const code = randomHex(20);
      const scopes = normaliseScopes(o.scope.split(','));
      this.codes.set(code, {
        athleteId: o.athleteId,
        clientId: o.clientId,
        scopes,
        expiresAt: this.ctx.clock.nowSeconds() + 600,
        used: false,
      });
      target.searchParams.set('code', code);
      target.searchParams.set('scope', scopes.join(','));
    }
    res.locals.account = String(o.athleteId);
    res.redirect(302, target.toString());
  }

  private token(req: Request, res: Response): void {
    const params: Record<string, string> = { ...(req.query as Record<string, string>), ...bodyParams(req) };
    const clientId = params.client_id ?? '';
    const secret = this.apps.get(clientId);
    if (secret === undefined || params.client_secret !== secret) {
      res
        .status(400)
        .json(fault('Bad Request', 'Application', secret === undefined ? 'client_id' : 'client_secret', 'invalid'));
      return;
    }
    const now = this.ctx.clock.nowSeconds();
    if (params.grant_type === 'authorization_code') {
      const code = this.codes.get(params.code ?? '');
      if (code === undefined || code.used || code.expiresAt < now || code.clientId !== clientId) {
        res.status(400).json(fault('Bad Request', 'RequestToken', 'code', 'invalid'));
        return;
      }
      code.used = true;
      const token = this.issueToken(code.athleteId, code.scopes, clientId);
      const athlete = this.requireAthlete(code.athleteId);
      res.locals.account = String(athlete.id);
      res.json({
        token_type: 'Bearer',
        expires_at: token.expiresAt,
        expires_in: token.expiresAt - now,
        refresh_token: token.refreshToken,
        access_token: token.accessToken,
        athlete: this.athleteJson(athlete, 2),
      });
      return;
    }
    if (params.grant_type === 'refresh_token') {
      const current = this.refreshTokens.get(params.refresh_token ?? '');
      if (current === undefined || current.clientId !== clientId) {
        res.status(400).json(fault('Bad Request', 'RefreshToken', 'refresh_token', 'invalid'));
        return;
      }
      res.locals.account = String(current.athleteId);
      const live = this.tokens.get(current.accessToken) === current;
      // Observed: refreshing a token that is not near expiry hands back the same token and expires_at.
      if (live && current.expiresAt - now > this.settings.refreshReuseThresholdSeconds) {
        res.json(tokenJson(current, now));
        return;
      }
      this.tokens.delete(current.accessToken);
      this.refreshTokens.delete(current.refreshToken);
      const next: StravaToken = {
        ...current,
        accessToken: randomHex(20),
        refreshToken: this.settings.rotateRefreshTokens ? randomHex(20) : current.refreshToken,
        expiresAt: now + this.settings.accessTokenTtlSeconds,
      };
      this.tokens.set(next.accessToken, next);
      this.refreshTokens.set(next.refreshToken, next);
      res.json(tokenJson(next, now));
      return;
    }
    res.status(400).json(fault('Bad Request', 'RequestToken', 'grant_type', 'invalid'));
  }

  private deauthorize(req: Request, res: Response): void {
    const params = { ...(req.query as Record<string, string>), ...bodyParams(req) };
    const accessToken = bearerToken(req) ?? params.access_token;
    const token = accessToken === undefined ? undefined : this.liveToken(accessToken);
    if (token === undefined || accessToken === undefined) {
      this.unauthorized(res);
      return;
    }
    res.locals.account = String(token.athleteId);
    this.revokeAthlete(token.athleteId, token.clientId, true);
    res.status(200).json({ access_token: accessToken });
  }

  // ---- push subscriptions (application credentials, not user tokens)

  private appCredentialsOk(params: Record<string, string>, res: Response): boolean {
    const secret = this.apps.get(params.client_id ?? '');
    if (secret === undefined || secret !== params.client_secret) {
      res.status(401).json(fault('Authorization Error', 'Application', 'client_id', 'invalid'));
      return false;
    }
    return true;
  }

  private async createSubscription(req: Request, res: Response): Promise<void> {
    const params = { ...(req.query as Record<string, string>), ...bodyParams(req) };
    if (!this.appCredentialsOk(params, res)) return;
    if (this.subscription !== undefined) {
      res.status(400).json(fault('Bad Request', 'PushSubscription', '', 'already exists'));
      return;
    }
    const callbackUrl = params.callback_url;
    if (callbackUrl === undefined || !/^https?:\/\//.test(callbackUrl)) {
      res.status(400).json(fault('Bad Request', 'PushSubscription', 'callback url', 'invalid'));
      return;
    }
    const challenge = randomHex(12);
    const url = new URL(callbackUrl);
    url.searchParams.set('hub.mode', 'subscribe');
    url.searchParams.set('hub.challenge', challenge);
    url.searchParams.set('hub.verify_token', params.verify_token ?? '');
    const result = await deliver(
      url.toString(),
      { method: 'GET' },
      { timeoutMs: this.settings.webhookTimeoutMs, attempts: 1 },
    );
    this.ctx.deliveries.push({
      ...result,
      service: 'strava',
      kind: 'subscription.validation',
      at: new Date(this.ctx.clock.now()).toISOString(),
    });
    const attempt = result.attempts[0];
    let echoed: unknown;
    try {
      echoed =
        attempt?.body === undefined
          ? undefined
          : (JSON.parse(attempt.body) as Record<string, unknown>)['hub.challenge'];
    } catch {
      echoed = undefined;
    }
    if (attempt?.status !== 200 || echoed !== challenge) {
      res
        .status(400)
        .json(fault('Bad Request', 'PushSubscription', 'callback url', 'GET to callback URL does not return 200'));
      return;
    }
    const sub = this.setSubscription(callbackUrl, params.verify_token ?? '');
    sub.clientId = params.client_id ?? this.settings.clientId;
    res.status(201).json(subscriptionJson(sub));
  }

  private listSubscriptions(req: Request, res: Response): void {
    const params = { ...(req.query as Record<string, string>), ...bodyParams(req) };
    if (!this.appCredentialsOk(params, res)) return;
    res.json(this.subscription === undefined ? [] : [subscriptionJson(this.subscription)]);
  }

  private deleteSubscription(req: Request, res: Response): void {
    const params = { ...(req.query as Record<string, string>), ...bodyParams(req) };
    if (!this.appCredentialsOk(params, res)) return;
    if (this.subscription === undefined || String(this.subscription.id) !== req.params.id) {
      res.status(404).json(fault('Record Not Found', 'PushSubscription', 'id', 'invalid'));
      return;
    }
    this.subscription = undefined;
    res.status(204).end();
  }

  // ---- rate limiting

  private window(clientId: string): RateWindow {
    const now = this.ctx.clock.now();
    const quarter = Math.floor(now / 900_000);
    const day = Math.floor(now / 86_400_000);
    let w = this.rate.get(clientId);
    if (w === undefined) {
      w = { quarter, day, overall15: 0, overallDay: 0, read15: 0, readDay: 0 };
      this.rate.set(clientId, w);
    }
    if (w.day !== day) Object.assign(w, { day, overallDay: 0, readDay: 0 });
    if (w.quarter !== quarter) Object.assign(w, { quarter, overall15: 0, read15: 0 });
    return w;
  }

  private setRateHeaders(res: Response, clientId: string, shown?: RateWindow): void {
    const w = shown ?? this.window(clientId);
    const { overall, read } = this.settings.rateLimits;
    res.setHeader('X-RateLimit-Limit', `${overall[0]},${overall[1]}`);
    res.setHeader('X-RateLimit-Usage', `${w.overall15},${w.overallDay}`);
    res.setHeader('X-ReadRateLimit-Limit', `${read[0]},${read[1]}`);
    res.setHeader('X-ReadRateLimit-Usage', `${w.read15},${w.readDay}`);
  }

  private rateLimit(req: Request, res: Response, next: () => void): void {
    const token = this.tokenFrom(req);
    const clientId = token?.clientId ?? this.settings.clientId;
    const w = this.window(clientId);
    const isUpload = req.method === 'POST' && (req.path === '/uploads' || req.path === '/activities');
    // Requests rejected for the short window still count against the daily one, so count first, then judge.
    w.overall15++;
    w.overallDay++;
    if (!isUpload) {
      w.read15++;
      w.readDay++;
    }
    this.setRateHeaders(res, clientId);
    const { overall, read } = this.settings.rateLimits;
    const over =
      w.overall15 > overall[0] ||
      w.overallDay > overall[1] ||
      (!isUpload && (w.read15 > read[0] || w.readDay > read[1]));
    if (over) {
      res.status(429).json(fault('Rate Limit Exceeded', 'Application', 'rate limit', 'exceeded'));
      return;
    }
    next();
  }

  // ---- auth helpers

  private tokenFrom(req: Request): StravaToken | undefined {
    const raw = bearerToken(req) ?? queryString(req, 'access_token');
    return raw === undefined ? undefined : this.tokens.get(raw);
  }

  private liveToken(raw: string): StravaToken | undefined {
    const token = this.tokens.get(raw);
    if (token === undefined || token.expiresAt <= this.ctx.clock.nowSeconds()) return undefined;
    return token;
  }

  private unauthorized(res: Response): void {
    const body =
      this.settings.unauthorizedShape === 'application'
        ? fault('Authorization Error', 'Application', '', 'invalid')
        : fault('Authorization Error', 'Athlete', 'access_token', 'invalid');
    res.status(401).json(body);
  }

  /** The caller's token if it is live and holds one of `anyOf` scopes; otherwise answers 401 and returns undefined. */
  private auth(req: Request, res: Response, anyOf: string[], missingField: string): StravaToken | undefined {
    const raw = bearerToken(req) ?? queryString(req, 'access_token');
    const token = raw === undefined ? undefined : this.liveToken(raw);
    if (token === undefined) {
      this.unauthorized(res);
      return undefined;
    }
    res.locals.account = String(token.athleteId);
    if (anyOf.length > 0 && !anyOf.some((s) => token.scopes.includes(s))) {
      res.status(401).json(fault('Authorization Error', 'AccessToken', missingField, 'missing'));
      return undefined;
    }
    return token;
  }

  // ---- API

  private getAthlete(req: Request, res: Response): void {
    const token = this.auth(req, res, ['read', 'read_all', 'profile:read_all'], 'read_permission');
    if (token === undefined) return;
    res.json(this.athleteJson(this.requireAthlete(token.athleteId), 3));
  }

  private listActivities(req: Request, res: Response): void {
    const token = this.auth(req, res, ['activity:read', 'activity:read_all'], 'activity:read_permission');
    if (token === undefined) return;
    const ints: Record<string, number | undefined> = {};
    for (const name of ['before', 'after', 'page', 'per_page']) {
      const raw = queryString(req, name);
      if (raw === undefined || raw === '') continue;
      const n = Number(raw);
      if (!Number.isInteger(n)) {
        res.status(400).json(fault('Bad Request', 'Application', name, 'invalid'));
        return;
      }
      ints[name] = n;
    }
    const page = Math.max(1, ints.page ?? 1);
    const perPage = Math.min(this.settings.maxPerPage, Math.max(1, ints.per_page ?? 30));
    const readAll = token.scopes.includes('activity:read_all');
    let list = [...this.activities.values()].filter(
      (a) =>
        a.athleteId === token.athleteId &&
        (readAll || !a.private) &&
        (ints.before === undefined || a.track.start / 1000 < ints.before) &&
        (ints.after === undefined || a.track.start / 1000 > ints.after),
    );
    const ascending = this.settings.ascendingWhenAfter && ints.after !== undefined && ints.before === undefined;
    list.sort((a, b) => (ascending ? a.track.start - b.track.start : b.track.start - a.track.start) || a.id - b.id);
    list = list.slice((page - 1) * perPage, page * perPage);
    res.json(list.map((a) => this.activityJson(a, 2)));
  }

  private findVisible(req: Request, res: Response, token: StravaToken): StravaActivity | undefined {
    const id = Number(req.params.id);
    const activity = Number.isInteger(id) ? this.activities.get(id) : undefined;
    const visible =
      activity !== undefined &&
      (activity.athleteId === token.athleteId
        ? !activity.private || token.scopes.includes('activity:read_all')
        : !activity.private);
    if (!visible) {
      res.status(404).json(fault('Record Not Found', 'Activity', 'id', 'invalid'));
      return undefined;
    }
    return activity;
  }

  private getActivity(req: Request, res: Response): void {
    const token = this.auth(req, res, ['activity:read', 'activity:read_all'], 'activity:read_permission');
    if (token === undefined) return;
    const activity = this.findVisible(req, res, token);
    if (activity !== undefined) res.json(this.activityJson(activity, 3));
  }

  private createManual(req: Request, res: Response): void {
    const token = this.auth(req, res, ['activity:write'], 'activity:write_permission');
    if (token === undefined) return;
    const p = { ...(req.query as Record<string, string>), ...bodyParams(req) };
    const sportType = p.sport_type ?? p.type;
    const elapsed = Number(p.elapsed_time);
    if (
      p.name === undefined ||
      sportType === undefined ||
      p.start_date_local === undefined ||
      !Number.isFinite(elapsed)
    ) {
      const field =
        p.name === undefined
          ? 'name'
          : sportType === undefined
            ? 'sport_type'
            : p.start_date_local === undefined
              ? 'start_date_local'
              : 'elapsed_time';
      res.status(400).json(fault('Bad Request', 'Activity', field, 'missing'));
      return;
    }
    const athlete = this.requireAthlete(token.athleteId);
    const localAsUtc = Date.parse(p.start_date_local.endsWith('Z') ? p.start_date_local : `${p.start_date_local}Z`);
    if (Number.isNaN(localAsUtc)) {
      res.status(400).json(fault('Bad Request', 'Activity', 'start_date_local', 'invalid'));
      return;
    }
    const start = localAsUtc - offsetSeconds(athlete.timezone, localAsUtc) * 1000;
    const distance = Number(p.distance ?? 0) || 0;
    const track: SimTrack = { start, elapsed, moving: elapsed, distance, sport: sportType, points: [] };
    const activity = this.addActivity(token.athleteId, track, {
      name: p.name,
      sportType,
      manual: true,
      description: p.description,
      trainer: p.trainer === '1' || p.trainer === 'true',
      commute: p.commute === '1' || p.commute === 'true',
      timezone: athlete.timezone,
    });
    res.status(201).json(this.activityJson(activity, 3));
  }

  private updateActivity(req: Request, res: Response): void {
    const token = this.auth(req, res, ['activity:write'], 'activity:write_permission');
    if (token === undefined) return;
    const activity = this.findVisible(req, res, token);
    if (activity === undefined) return;
    if (activity.athleteId !== token.athleteId) {
      res.status(403).json(fault('Forbidden', 'Activity', 'id', 'forbidden'));
      return;
    }
    const raw = jsonBody(req);
    const body = isRecord(raw) ? raw : bodyParams(req);
    const updates: Record<string, unknown> = {};
    if (typeof body.name === 'string') {
      activity.name = body.name;
      updates.title = body.name;
    }
    const sport =
      typeof body.sport_type === 'string' ? body.sport_type : typeof body.type === 'string' ? body.type : undefined;
    if (sport !== undefined) {
      activity.sportType = sport;
      updates.type = legacyType(sport);
    }
    if (typeof body.description === 'string') activity.description = body.description;
    if (typeof body.commute === 'boolean') activity.commute = body.commute;
    if (typeof body.trainer === 'boolean') activity.trainer = body.trainer;
    if (typeof body.hide_from_home === 'boolean') activity.hideFromHome = body.hide_from_home;
    if (typeof body.gear_id === 'string') activity.gearId = body.gear_id === 'none' ? null : body.gear_id;
    if (Object.keys(updates).length > 0) {
      this.autoEvent({
        object_type: 'activity',
        object_id: activity.id,
        aspect_type: 'update',
        updates,
        owner_id: activity.athleteId,
      });
    }
    res.json(this.activityJson(activity, 3));
  }

  private deleteActivityRoute(req: Request, res: Response): void {
    const token = this.auth(req, res, ['activity:write'], 'activity:write_permission');
    if (token === undefined) return;
    const activity = this.activities.get(Number(req.params.id));
    if (!this.settings.deleteEnabled || activity === undefined || activity.athleteId !== token.athleteId) {
      res.status(404).json(fault('Record Not Found', 'Activity', 'id', 'invalid'));
      return;
    }
    this.deleteActivity(activity.id);
    res.status(204).end();
  }

  private streams(req: Request, res: Response, keysParam: string | undefined, keyByTypeDefault?: boolean): void {
    const token = this.auth(req, res, ['activity:read', 'activity:read_all'], 'activity:read_permission');
    if (token === undefined) return;
    const activity = this.findVisible(req, res, token);
    if (activity === undefined) return;
    const keyByType = keyByTypeDefault ?? queryString(req, 'key_by_type') === 'true';
    const requested = (keysParam ?? '')
      .split(',')
      .map((k) => k.trim())
      .filter((k): k is StreamKey => (STREAM_KEYS as readonly string[]).includes(k));
    const keys: StreamKey[] = requested.length > 0 ? requested : ['distance'];
    const built = activity.manual ? [] : buildStreams(activity.track, keys);
    if (keyByType) {
      res.json(
        Object.fromEntries(
          built.map((s) => [
            s.type,
            { data: s.data, series_type: s.series_type, original_size: s.original_size, resolution: s.resolution },
          ]),
        ),
      );
    } else {
      res.json(built);
    }
  }

  private upload(req: Request, res: Response): void {
    const token = this.auth(req, res, ['activity:write'], 'activity:write_permission');
    if (token === undefined) return;
    const parts = multipartBody(req);
    const fields: Record<string, string> = {};
    for (const part of parts) if (part.filename === undefined) fields[part.name] = part.data.toString('utf8');
    const file =
      parts.find((p) => p.name === 'file' && p.filename !== undefined) ?? parts.find((p) => p.name === 'file');
    if (file === undefined || file.data.length === 0) {
      res.status(400).json(fault('Bad Request', 'Upload', 'file', 'not a file'));
      return;
    }
    const dataType = (fields.data_type ?? '').toLowerCase();
    if (!UPLOAD_DATA_TYPES.includes(dataType)) {
      res.status(400).json(fault('Bad Request', 'Upload', 'data_type', 'invalid'));
      return;
    }
    const id = this.uploadIds.take();
    const externalIdSent = fields.external_id !== undefined && fields.external_id !== '' ? fields.external_id : null;
    const upload: StravaUpload = {
      id,
      athleteId: token.athleteId,
      externalIdSent,
      filename: file.filename !== undefined && file.filename !== '' ? file.filename : `${id}.${dataType}`,
      dataType,
      bytes: file.data,
      pollsLeft: this.settings.uploadProcessingPolls,
      status: STRAVA_STATUS.processing,
      error: null,
      activityId: null,
      done: false,
      fields,
    };
    this.uploads.set(id, upload);
    if (this.settings.duplicateDetection && this.settings.duplicateFileInPostResponse) {
      const hash = sha1(file.data);
      const existing = [...this.activities.values()].find(
        (a) => a.athleteId === token.athleteId && a.fileHash === hash,
      );
      if (existing !== undefined) this.fail(upload, `${upload.filename} duplicate of activity ${existing.id}`);
    }
    res.status(201).json(uploadJson(upload));
  }

  private uploadStatus(req: Request, res: Response): void {
    const token = this.auth(req, res, ['activity:write'], 'activity:write_permission');
    if (token === undefined) return;
    const upload = this.uploads.get(Number(req.params.id));
    if (upload === undefined || upload.athleteId !== token.athleteId) {
      res.status(404).json(fault('Record Not Found', 'Upload', 'id', 'invalid'));
      return;
    }
    if (!upload.done) {
      if (upload.pollsLeft > 0) upload.pollsLeft--;
      else this.process(upload);
    }
    res.json(uploadJson(upload));
  }

  private fail(upload: StravaUpload, error: string): void {
    upload.done = true;
    upload.status = STRAVA_STATUS.error;
    upload.error = error;
  }

  private process(upload: StravaUpload): void {
    const format = upload.dataType.replace('.gz', '') as SimFormat;
    let track: SimTrack;
    try {
      const bytes = maybeGunzip(upload.bytes);
      track = decodeTrack(bytes, formatFromName(`x.${format}`));
    } catch (err) {
      this.fail(
        upload,
        `${upload.filename}: ${err instanceof SimFileError ? err.message : 'Improperly formatted data.'}`,
      );
      return;
    }
    const hash = sha1(upload.bytes);
    if (this.settings.duplicateDetection) {
      const tolerance = this.settings.duplicateToleranceSeconds * 1000;
      const existing = [...this.activities.values()].find(
        (a) =>
          a.athleteId === upload.athleteId &&
          (a.fileHash === hash || (!a.manual && Math.abs(a.track.start - track.start) <= tolerance)),
      );
      if (existing !== undefined) {
        this.fail(upload, `${upload.filename} duplicate of activity ${existing.id}`);
        return;
      }
    }
    const ext = upload.dataType;
    const externalId =
      upload.externalIdSent === null
        ? upload.filename
        : upload.externalIdSent.endsWith(`.${ext}`)
          ? upload.externalIdSent
          : `${upload.externalIdSent}.${ext}`;
    const f = upload.fields;
    const activityType = f.activity_type ?? f.sport_type;
    const activity = this.addActivity(upload.athleteId, track, {
      name: f.name ?? f.activity_name,
      description: f.description,
      trainer: f.trainer === '1' || f.trainer === 'true',
      commute: f.commute === '1' || f.commute === 'true',
      sportType: activityType === undefined ? undefined : pascal(activityType),
      externalId,
      uploadId: upload.id,
      fileHash: hash,
    });
    upload.done = true;
    upload.status = STRAVA_STATUS.ready;
    upload.activityId = activity.id;
    upload.externalIdSent = externalId;
  }

  // ---- JSON shapes

  athleteJson(a: StravaAthlete, resourceState: 2 | 3): Record<string, unknown> {
    const created = new Date(a.createdAt).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const base: Record<string, unknown> = {
      id: a.id,
      username: a.username,
      resource_state: resourceState,
      firstname: a.firstname,
      lastname: a.lastname,
      bio: null,
      city: null,
      state: null,
      country: null,
      sex: null,
      premium: false,
      summit: false,
      created_at: created,
      updated_at: created,
      badge_type_id: 0,
      weight: null,
      profile_medium: 'avatar/athlete/medium.png',
      profile: 'avatar/athlete/large.png',
      friend: null,
      follower: null,
    };
    if (resourceState === 3) {
      Object.assign(base, {
        follower_count: 0,
        friend_count: 0,
        measurement_preference: 'meters',
        ftp: null,
        clubs: [],
        bikes: [],
        shoes: [],
      });
    }
    return base;
  }

  activityJson(a: StravaActivity, resourceState: 2 | 3): Record<string, unknown> {
    const t = a.track;
    const offset = offsetSeconds(a.timezone, t.start);
    const sign = offset < 0 ? '-' : '+';
    const abs = Math.abs(offset);
    const gmt = `(GMT${sign}${String(Math.floor(abs / 3600)).padStart(2, '0')}:${String(Math.floor((abs % 3600) / 60)).padStart(2, '0')}) ${a.timezone}`;
    const fixes = t.points
      .filter((p) => p.lat !== undefined && p.lon !== undefined)
      .map((p) => [p.lat as number, p.lon as number] as [number, number]);
    const first = fixes[0];
    const last = fixes[fixes.length - 1];
    const hr = t.points.map((p) => p.heartRate).filter((v): v is number => v !== undefined);
    const cad = t.points.map((p) => p.cadence).filter((v): v is number => v !== undefined);
    const watts = t.points.map((p) => p.power).filter((v): v is number => v !== undefined);
    const alts = t.points.map((p) => p.altitude).filter((v): v is number => v !== undefined);
    const speeds = t.points.map((p) => p.speed).filter((v): v is number => v !== undefined);
    let gain = 0;
    for (let i = 1; i < alts.length; i++) gain += Math.max(0, (alts[i] as number) - (alts[i - 1] as number));
    const polyline = encodePolyline(fixes.filter((_, i) => i % Math.max(1, Math.floor(fixes.length / 200)) === 0));
    const out: Record<string, unknown> = {
      resource_state: resourceState,
      athlete: { id: a.athleteId, resource_state: 1 },
      name: a.name,
      distance: round1(t.distance),
      moving_time: a.manual ? t.elapsed : t.moving,
      elapsed_time: t.elapsed,
      total_elevation_gain: round1(gain),
      type: legacyType(a.sportType),
      sport_type: a.sportType,
      workout_type: null,
      id: a.id,
      start_date: formatUtc(t.start, "yyyy-MM-dd'T'HH:mm:ss'Z'"),
      // Strava's quirk: local wall time with a Z suffix.
      start_date_local: formatLocal(a.timezone, t.start, "yyyy-MM-dd'T'HH:mm:ss'Z'"),
      timezone: gmt,
      utc_offset: offset,
      location_city: null,
      location_state: null,
      location_country: null,
      achievement_count: 0,
      kudos_count: 0,
      comment_count: 0,
      athlete_count: 1,
      photo_count: 0,
      map: { id: `a${a.id}`, summary_polyline: polyline, resource_state: 2 },
      trainer: a.trainer,
      commute: a.commute,
      manual: a.manual,
      private: a.private,
      visibility: a.private ? 'only_me' : 'everyone',
      flagged: false,
      gear_id: a.gearId,
      start_latlng: first ?? null,
      end_latlng: last ?? null,
      average_speed: t.elapsed > 0 ? round3(t.distance / Math.max(1, t.moving)) : 0,
      max_speed: speeds.length > 0 ? round3(maxOf(speeds)) : 0,
      has_heartrate: hr.length > 0,
      heartrate_opt_out: false,
      display_hide_heartrate_option: hr.length > 0,
      elev_high: alts.length > 0 ? round1(maxOf(alts)) : undefined,
      elev_low: alts.length > 0 ? round1(minOf(alts)) : undefined,
      upload_id: a.uploadId,
      upload_id_str: a.uploadId === null ? undefined : String(a.uploadId),
      external_id: a.externalId,
      from_accepted_tag: false,
      pr_count: 0,
      total_photo_count: 0,
      has_kudoed: false,
    };
    if (hr.length > 0) {
      out.average_heartrate = round1(hr.reduce((s, v) => s + v, 0) / hr.length);
      out.max_heartrate = maxOf(hr);
    }
    if (cad.length > 0) out.average_cadence = round1(cad.reduce((s, v) => s + v, 0) / cad.length);
    if (watts.length > 0) {
      out.average_watts = round1(watts.reduce((s, v) => s + v, 0) / watts.length);
      out.device_watts = true;
      out.kilojoules = round1(((out.average_watts as number) * t.moving) / 1000);
    }
    if (resourceState === 3) {
      Object.assign(out, {
        description: a.description,
        calories: 0,
        laps: [],
        splits_metric: [],
        splits_standard: [],
        segment_efforts: [],
        best_efforts: [],
        gear: null,
        photos: { primary: null, count: 0 },
        device_name: a.deviceName ?? undefined,
        embed_token: randomHex(20),
        hide_from_home: a.hideFromHome,
      });
      (out.map as Record<string, unknown>).polyline = encodePolyline(fixes);
      (out.map as Record<string, unknown>).resource_state = 3;
    }
    return out;
  }
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

function sha1(bytes: Buffer): string {
  return createHash('sha1').update(bytes).digest('hex');
}

function pascal(s: string): string {
  return s
    .split(/[_\s-]+/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

/** The urlencoded body as sent: repeated fields (one `scope` per ticked box) must all survive. */
function rawText(req: Request): string {
  const type = req.headers['content-type'] ?? '';
  return type.includes('multipart/form-data')
    ? new URLSearchParams(formBody(req)).toString()
    : rawBody(req).toString('utf8');
}

function bodyParams(req: Request): Record<string, string> {
  const type = req.headers['content-type'] ?? '';
  if (type.includes('application/json')) {
    const body = jsonBody(req);
    if (!isRecord(body)) return {};
    return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
  }
  return formBody(req);
}

/** Strava always grants `read` (the public profile is not optional on its consent screen). */
function normaliseScopes(scopes: string[]): string[] {
  const set = new Set(['read', ...scopes.map((s) => s.trim()).filter((s) => s !== '')]);
  return [...set];
}

function tokenJson(t: StravaToken, now: number): Record<string, unknown> {
  return {
    token_type: 'Bearer',
    access_token: t.accessToken,
    expires_at: t.expiresAt,
    expires_in: t.expiresAt - now,
    refresh_token: t.refreshToken,
  };
}

function uploadJson(u: StravaUpload): Record<string, unknown> {
  return {
    id: u.id,
    id_str: String(u.id),
    external_id: u.externalIdSent,
    error: u.error,
    status: u.status,
    activity_id: u.activityId,
  };
}

function subscriptionJson(s: PushSubscription): Record<string, unknown> {
  const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    id: s.id,
    resource_state: 2,
    application_id: s.applicationId,
    callback_url: s.callbackUrl,
    created_at: iso(s.createdAt),
    updated_at: iso(s.updatedAt),
  };
}

function defaultName(sportType: string, start: number, zone: string): string {
  const hour = Number(formatLocal(zone, start, 'H'));
  const part =
    hour >= 5 && hour < 12
      ? 'Morning'
      : hour >= 12 && hour < 17
        ? 'Afternoon'
        : hour >= 17 && hour < 21
          ? 'Evening'
          : 'Night';
  return `${part} ${legacyType(sportType)}`;
}

interface BuiltStream {
  type: StreamKey;
  data: unknown[];
  series_type: 'distance' | 'time';
  original_size: number;
  resolution: 'high';
}

function buildStreams(track: SimTrack, keys: StreamKey[]): BuiltStream[] {
  const pts = track.points;
  const carry = <T>(get: (i: number) => T | undefined): (T | undefined)[] => {
    let last: T | undefined;
    const first = pts.findIndex((_, i) => get(i) !== undefined);
    if (first === -1) return [];
    last = get(first);
    return pts.map((_, i) => {
      const v = get(i);
      if (v !== undefined) last = v;
      return last;
    });
  };
  const out: BuiltStream[] = [];
  for (const key of keys) {
    let data: unknown[] = [];
    switch (key) {
      case 'time':
        data = pts.map((p) => Math.round((p.time - track.start) / 1000));
        break;
      case 'distance':
        data = pts.map((p) => round1(p.distance ?? 0));
        break;
      case 'latlng':
        data = carry((i) => {
          const p = pts[i];
          return p?.lat === undefined || p.lon === undefined
            ? undefined
            : [Number(p.lat.toFixed(6)), Number(p.lon.toFixed(6))];
        });
        break;
      case 'altitude':
        data = carry((i) => pts[i]?.altitude).map((v) => (v === undefined ? v : round1(v)));
        break;
      case 'velocity_smooth':
        data = pts.map((p) => round3(p.speed ?? 0));
        break;
      case 'heartrate':
        data = carry((i) => pts[i]?.heartRate).map((v) => (v === undefined ? v : Math.round(v)));
        break;
      case 'cadence':
        data = carry((i) => pts[i]?.cadence).map((v) => (v === undefined ? v : Math.round(v)));
        break;
      case 'watts':
        data = carry((i) => pts[i]?.power).map((v) => (v === undefined ? v : Math.round(v)));
        break;
      case 'temp':
        data = carry((i) => pts[i]?.temperature);
        break;
      case 'moving':
        data = pts.map((p) => (p.speed ?? 0) > 0.3);
        break;
      case 'grade_smooth':
        data = pts.map((p, i) => {
          const prev = pts[i - 1];
          if (prev === undefined || p.altitude === undefined || prev.altitude === undefined) return 0;
          const dd = (p.distance ?? 0) - (prev.distance ?? 0);
          return dd > 0 ? round1(((p.altitude - prev.altitude) / dd) * 100) : 0;
        });
        break;
    }
    if (data.length === 0 || data.every((v) => v === undefined)) continue;
    out.push({ type: key, data, series_type: 'distance', original_size: data.length, resolution: 'high' });
  }
  return out;
}
