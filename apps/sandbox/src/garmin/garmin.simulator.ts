import { createHash, randomInt, randomUUID } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { zipSync } from 'fflate';
import {
  SimFileError,
  decodeTrack,
  encodeTrack,
  formatFromName,
  maybeGunzip,
  sniffFormat,
  type SimFile,
  type SimFormat,
  type SimTrack,
} from '../core/activity-file.util';
import { formatLocal, formatUtc, zoneForTrack } from '../core/geo.util';
import { IdSequence, randomAlnum, randomHex } from '../core/ids.util';
import {
  bearerToken,
  escapeHtml,
  formBody,
  isRecord,
  jsonBody,
  multipartBody,
  parseCookies,
  queryString,
} from '../core/http.util';
import { serviceGate, type SandboxContext } from '../core/sandbox.context';
import { SandboxNotFoundError } from '../core/sandbox.error';
import { DEFAULT_GARMIN_SETTINGS, type GarminSettings } from './garmin.settings';
import { maxOf } from '../core/stats.util';

export interface GarminAccount {
  username: string;
  password: string;
  displayName: string;
  fullName: string;
  profileId: number;
  mfa: boolean;
  mfaCode: string;
  /** False reproduces the EU upload-consent failure (HTTP 412). */
  uploadConsent: boolean;
  timezone: string;
}

export interface GarminActivity {
  activityId: number;
  ownerId: number;
  name: string;
  description?: string;
  track: SimTrack;
  typeKey: string;
  timezone: string;
  file: SimFile;
  privacy: 'private' | 'public';
  uploadedAt: number;
  fileHash: string;
}

interface Session {
  username: string;
  expiresAt: number;
}

interface Ticket {
  username: string;
  expiresAt: number;
}

interface SsoState {
  csrf: string;
  mfaUser?: string;
}

interface PendingUpload {
  uuid: string;
  uploadId: number;
  ownerId: number;
  creationDate: number;
  fileName: string;
  fileSize: number;
  activityId: number;
  pollsLeft: number;
}

const ACTIVITY_TYPES: Record<string, { typeId: number; typeKey: string; parentTypeId: number }> = {
  Run: { typeId: 1, typeKey: 'running', parentTypeId: 17 },
  Ride: { typeId: 2, typeKey: 'cycling', parentTypeId: 17 },
  Hike: { typeId: 3, typeKey: 'hiking', parentTypeId: 17 },
  Workout: { typeId: 4, typeKey: 'other', parentTypeId: 17 },
  MountainBikeRide: { typeId: 5, typeKey: 'mountain_biking', parentTypeId: 2 },
  TrailRun: { typeId: 6, typeKey: 'trail_running', parentTypeId: 1 },
  Walk: { typeId: 9, typeKey: 'walking', parentTypeId: 17 },
  VirtualRide: { typeId: 152, typeKey: 'virtual_ride', parentTypeId: 2 },
  Swim: { typeId: 26, typeKey: 'swimming', parentTypeId: 17 },
  Rowing: { typeId: 39, typeKey: 'rowing', parentTypeId: 17 },
};

function typeForKey(typeKey: string): { typeId: number; typeKey: string; parentTypeId: number } {
  return Object.values(ACTIVITY_TYPES).find((t) => t.typeKey === typeKey) ?? { typeId: 4, typeKey, parentTypeId: 17 };
}

export function garminTypeKey(sport: string): string {
  return ACTIVITY_TYPES[sport]?.typeKey ?? 'other';
}

function garminTime(ms: number, zone?: string): string {
  return zone === undefined ? formatUtc(ms, 'yyyy-MM-dd HH:mm:ss') : formatLocal(zone, ms, 'yyyy-MM-dd HH:mm:ss');
}

function sha1(bytes: Buffer): string {
  return createHash('sha1').update(bytes).digest('hex');
}

/** Garmin Connect unofficial API + SSO simulator (service-apis.md §2b). */
export class GarminSimulator {
  settings: GarminSettings;
  readonly accounts = new Map<string, GarminAccount>();
  readonly activities = new Map<number, GarminActivity>();
  private readonly sessions = new Map<string, Session>();
  private readonly refreshTokens = new Map<string, Session>();
  private readonly oauth1 = new Map<string, string>();
  private readonly tickets = new Map<string, Ticket>();
  private readonly sso = new Map<string, SsoState>();
  private readonly uploads = new Map<string, PendingUpload>();
  // Random per sandbox for the same reason as Strava's athlete ids.
  private readonly profileIds = new IdSequence(2_591_602 + randomInt(0, 1_000_000) * 1_000);
  private readonly activityIds = new IdSequence(10_000_000_001);
  private readonly uploadIds = new IdSequence(212_157_427_938);

  constructor(
    private readonly ctx: SandboxContext,
    settings: Partial<GarminSettings> = {},
  ) {
    this.settings = { ...DEFAULT_GARMIN_SETTINGS, ...settings };
  }

  reset(): void {
    for (const map of [
      this.accounts,
      this.activities,
      this.sessions,
      this.refreshTokens,
      this.oauth1,
      this.tickets,
      this.sso,
      this.uploads,
    ]) {
      map.clear();
    }
    for (const seq of [this.profileIds, this.activityIds, this.uploadIds]) seq.reset();
  }

  // ---------------------------------------------------------------- control-side operations

  createAccount(input: Partial<GarminAccount> & { username: string; password: string }): GarminAccount {
    const account: GarminAccount = {
      username: input.username,
      password: input.password,
      displayName: input.displayName ?? input.username.replace(/@.*/, ''),
      fullName: input.fullName ?? 'Sandbox Garmin User',
      profileId: input.profileId ?? this.profileIds.take(),
      mfa: input.mfa ?? false,
      mfaCode: input.mfaCode ?? this.settings.defaultMfaCode,
      uploadConsent: input.uploadConsent ?? true,
      timezone: input.timezone ?? 'UTC',
    };
    this.profileIds.bump(account.profileId);
    this.accounts.set(account.username.toLowerCase(), account);
    return account;
  }

  requireAccount(ref: unknown): GarminAccount {
    const key = typeof ref === 'string' ? ref.toLowerCase() : String(ref);
    const account =
      this.accounts.get(key) ??
      [...this.accounts.values()].find((a) => String(a.profileId) === key || a.displayName === ref);
    if (account === undefined) throw new SandboxNotFoundError('Garmin account', String(ref));
    return account;
  }

  /** Mints an API bearer token directly, skipping the SSO flow (tests and seeding). */
  issueToken(username: string): { accessToken: string; refreshToken: string; expiresAt: number } {
    const account = this.requireAccount(username);
    const expiresAt = this.ctx.clock.nowSeconds() + this.settings.sessionTtlSeconds;
    const accessToken = this.jwt(account, expiresAt);
    const refreshToken = randomAlnum(48);
    this.sessions.set(accessToken, { username: account.username.toLowerCase(), expiresAt });
    this.refreshTokens.set(refreshToken, {
      username: account.username.toLowerCase(),
      expiresAt: this.ctx.clock.nowSeconds() + this.settings.refreshTokenTtlSeconds,
    });
    return { accessToken, refreshToken, expiresAt };
  }

  /** Ends sessions/tokens of one account (or all): the next API call gets 401, or demo data with the trap on. */
  expireSessions(username?: string, includeRefresh = false): number {
    let n = 0;
    const match = (s: Session): boolean => username === undefined || s.username === username.toLowerCase();
    for (const s of this.sessions.values()) {
      if (match(s)) {
        s.expiresAt = this.ctx.clock.nowSeconds() - 1;
        n++;
      }
    }
    if (includeRefresh) for (const [k, s] of [...this.refreshTokens]) if (match(s)) this.refreshTokens.delete(k);
    return n;
  }

  addActivity(
    username: string,
    track: SimTrack,
    meta: {
      name?: string;
      description?: string;
      file?: SimFile;
      typeKey?: string;
      privacy?: 'private' | 'public';
      id?: number;
    } = {},
  ): GarminActivity {
    const account = this.requireAccount(username);
    const activityId = meta.id ?? this.activityIds.take();
    this.activityIds.bump(activityId);
    const file = meta.file ?? {
      format: 'fit' as SimFormat,
      bytes: encodeTrack(track, 'fit'),
      name: `${activityId}.fit`,
    };
    const timezone = zoneForTrack(track, account.timezone);
    const typeKey = meta.typeKey ?? garminTypeKey(track.sport);
    const activity: GarminActivity = {
      activityId,
      ownerId: account.profileId,
      name: meta.name ?? defaultName(typeKey),
      description: meta.description,
      track,
      typeKey,
      timezone,
      file,
      privacy: meta.privacy ?? 'private',
      uploadedAt: this.ctx.clock.now(),
      fileHash: sha1(file.bytes),
    };
    this.activities.set(activityId, activity);
    return activity;
  }

  listFor(username?: string): GarminActivity[] {
    const owner = username === undefined ? undefined : this.requireAccount(username).profileId;
    return [...this.activities.values()].filter((a) => owner === undefined || a.ownerId === owner);
  }

  // ---------------------------------------------------------------- HTTP

  private gate(mount: 'garmin' | 'garmin-sso'): ReturnType<typeof serviceGate> {
    return serviceGate(this.ctx, {
      service: 'garmin',
      mount,
      accountFor: (req) => this.sessionFrom(req, true)?.username,
      rateLimited: (_req, res) => {
        res.status(429).json({ error: { 'status-code': '429', message: 'IP rate limited' } });
      },
    });
  }

  ssoRouter(): Router {
    const r = Router();
    r.use(this.gate('garmin-sso'));
    r.get('/sso/embed', (req, res) => {
      this.ssoSession(req, res);
      res
        .type('text/html')
        .send('<html><head><title>GARMIN Authentication Application</title></head><body></body></html>');
    });
    r.get('/sso/signin', (req, res) => this.signinPage(req, res));
    r.post('/sso/signin', (req, res) => this.signinSubmit(req, res));
    r.post('/sso/verifyMFA/loginEnterMfaCode', (req, res) => this.verifyMfaForm(req, res));
    r.post('/mobile/api/login', (req, res) => this.mobileLogin(req, res));
    r.post('/mobile/api/mfa/verifyCode', (req, res) => this.mobileVerify(req, res));
    r.post('/di-oauth2-service/oauth/token', (req, res) => this.diToken(req, res));
    return r;
  }

  apiRouter(): Router {
    const api = Router();
    api.get('/oauth-service/oauth/preauthorized', (req, res) => this.preauthorized(req, res));
    api.post('/oauth-service/oauth/exchange/user/2.0', (req, res) => this.exchange(req, res));
    api.post('/di-oauth2-service/oauth/token', (req, res) => this.diToken(req, res));
    api.get('/userprofile-service/socialProfile', (req, res) =>
      this.withSession(req, res, (a) => res.json(this.profileJson(a))),
    );
    api.get('/activitylist-service/activities/search/activities', (req, res) => this.list(req, res));
    api.get('/activitylist-service/activities/count', (req, res) =>
      this.withSession(req, res, (a) => res.json({ totalCount: this.listFor(a.username).length })),
    );
    api.get('/activity-service/activity/status/:created/:uuid', (req, res) => this.uploadStatus(req, res));
    api.get('/activity-service/activity/:id', (req, res) =>
      this.withActivity(req, res, (act) => res.json(this.detailJson(act))),
    );
    api.put('/activity-service/activity/:id', (req, res) =>
      this.withActivity(req, res, (act) => this.update(req, res, act)),
    );
    api.delete('/activity-service/activity/:id', (req, res) =>
      this.withActivity(req, res, (act) => {
        this.activities.delete(act.activityId);
        res.status(204).end();
      }),
    );
    api.get('/download-service/files/activity/:id', (req, res) =>
      this.withActivity(req, res, (act) => this.download(res, act)),
    );
    api.post(['/upload-service/upload', '/upload-service/upload/:ext'], (req, res) => this.upload(req, res));

    const r = Router();
    r.use(this.gate('garmin'));
    r.get(['/modern', '/modern/'], (req, res) => this.webLogin(req, res));
    // The same API is reachable on connectapi.garmin.com/<path> (mobile clients) and the web proxies.
    r.use('/modern/proxy', api);
    r.use('/proxy', api);
    r.use('/gc-api', api);
    r.use(api);
    return r;
  }

  // ---- SSO

  private ssoSession(req: Request, res: Response): string {
    const cookies = parseCookies(req);
    let sid = cookies['SANDBOX-SSO'];
    if (sid === undefined || !this.sso.has(sid)) {
      sid = randomHex(16);
      this.sso.set(sid, { csrf: randomHex(24) });
      res.append('Set-Cookie', `SANDBOX-SSO=${sid}; Path=/; HttpOnly`);
      res.append('Set-Cookie', `GARMIN-SSO=1; Path=/`);
      res.append('Set-Cookie', `GARMIN-SSO-CUST-GUID=${randomUUID()}; Path=/`);
    }
    return sid;
  }

  private signinPage(req: Request, res: Response): void {
    const sid = this.ssoSession(req, res);
    const state = this.sso.get(sid) as SsoState;
    state.csrf = randomHex(24);
    res.type('text/html').send(`<!DOCTYPE html><html><head><title>GARMIN Authentication Application</title></head><body>
<form method="post" id="login-form">
<input type="text" name="username" id="username"/>
<input type="password" name="password" id="password"/>
<input type="hidden" name="embed" value="true"/>
<input type="hidden" name="_csrf" value="${state.csrf}" />
<button type="submit" id="login-btn-signin">Sign In</button>
</form></body></html>`);
  }

  private successPage(res: Response, username: string): void {
    const ticket = this.newTicket(username);
    res.locals.account = username;
    res.type('text/html').send(`<!DOCTYPE html><html><head><title>Success</title></head><body>
<script type="text/javascript">var response_url = "https:\\/\\/sso.garmin.com\\/sso\\/embed?ticket=${ticket}";</script>
<a href="https://sso.garmin.com/sso/embed?ticket=${ticket}">continue</a>
</body></html>`);
  }

  private mfaPage(res: Response, csrf: string, error?: string): void {
    res.type('text/html').send(`<!DOCTYPE html><html><head><title>Enter MFA code for login</title></head><body>
${error === undefined ? '' : `<div id="error">${escapeHtml(error)}</div>`}
<form method="post" action="/sso/verifyMFA/loginEnterMfaCode" id="mfa-form">
<input type="text" name="mfa-code" id="mfa-code"/>
<input type="hidden" name="embed" value="true"/>
<input type="hidden" name="_csrf" value="${csrf}" />
<input type="hidden" name="fromPage" value="setupEnterMfaCode"/>
<button type="submit">Verify</button>
</form></body></html>`);
  }

  private csrfOk(req: Request, form: Record<string, string>): SsoState | undefined {
    const sid = parseCookies(req)['SANDBOX-SSO'];
    const state = sid === undefined ? undefined : this.sso.get(sid);
    return state !== undefined && form._csrf === state.csrf ? state : undefined;
  }

  private signinSubmit(req: Request, res: Response): void {
    const form = formBody(req);
    const state = this.csrfOk(req, form);
    if (state === undefined) {
      res
        .status(403)
        .type('text/html')
        .send('<html><head><title>Forbidden</title></head><body>Invalid CSRF token</body></html>');
      return;
    }
    const account = this.accounts.get((form.username ?? '').toLowerCase());
    if (account === undefined || account.password !== form.password) {
      res
        .status(this.settings.badCredentialsStatus)
        .type('text/html')
        .send(
          '<html><head><title>GARMIN Authentication Application</title></head><body><div id="status">Invalid sign in. (Passwords are case sensitive.)</div></body></html>',
        );
      return;
    }
    res.locals.account = account.username.toLowerCase();
    if (account.mfa) {
      state.mfaUser = account.username.toLowerCase();
      state.csrf = randomHex(24);
      this.mfaPage(res, state.csrf);
      return;
    }
    this.successPage(res, account.username.toLowerCase());
  }

  private verifyMfaForm(req: Request, res: Response): void {
    const form = formBody(req);
    const state = this.csrfOk(req, form);
    if (state?.mfaUser === undefined) {
      res
        .status(403)
        .type('text/html')
        .send('<html><head><title>Forbidden</title></head><body>No MFA login in progress</body></html>');
      return;
    }
    const account = this.requireAccount(state.mfaUser);
    res.locals.account = state.mfaUser;
    if (form['mfa-code'] !== account.mfaCode) {
      state.csrf = randomHex(24);
      res.status(this.settings.badCredentialsStatus);
      this.mfaPage(res, state.csrf, 'Invalid code. Please try again.');
      return;
    }
    state.mfaUser = undefined;
    this.successPage(res, account.username.toLowerCase());
  }

  private mobileLogin(req: Request, res: Response): void {
    const body = jsonBody(req);
    const o = isRecord(body) ? body : {};
    const account = this.accounts.get((typeof o.username === 'string' ? o.username : '').toLowerCase());
    if (account === undefined || account.password !== o.password) {
      res.json({ responseStatus: { type: 'INVALID_USERNAME_PASSWORD', message: 'Invalid username or password' } });
      return;
    }
    res.locals.account = account.username.toLowerCase();
    if (account.mfa) {
      const sid = this.ssoSession(req, res);
      (this.sso.get(sid) as SsoState).mfaUser = account.username.toLowerCase();
      res.json({
        responseStatus: { type: 'MFA_REQUIRED', message: '' },
        customerMfaInfo: { mfaLastMethodUsed: 'email' },
      });
      return;
    }
    res.json({
      responseStatus: { type: 'SUCCESSFUL', message: '' },
      serviceTicketId: this.newTicket(account.username.toLowerCase()),
      serviceURL: queryString(req, 'service') ?? 'https://mobile.integration.garmin.com/gcm/android',
    });
  }

  private mobileVerify(req: Request, res: Response): void {
    const sid = parseCookies(req)['SANDBOX-SSO'];
    const state = sid === undefined ? undefined : this.sso.get(sid);
    const body = jsonBody(req);
    const o = isRecord(body) ? body : {};
    if (state?.mfaUser === undefined) {
      res.status(400).json({ responseStatus: { type: 'INVALID_REQUEST', message: 'No MFA login in progress' } });
      return;
    }
    const account = this.requireAccount(state.mfaUser);
    res.locals.account = state.mfaUser;
    if (
      (typeof o.mfaVerificationCode === 'string' || typeof o.mfaVerificationCode === 'number'
        ? String(o.mfaVerificationCode)
        : '') !== account.mfaCode
    ) {
      res.json({ responseStatus: { type: 'INVALID_MFA_CODE', message: 'Invalid MFA code' } });
      return;
    }
    state.mfaUser = undefined;
    res.json({
      responseStatus: { type: 'SUCCESSFUL', message: '' },
      serviceTicketId: this.newTicket(account.username.toLowerCase()),
    });
  }

  private newTicket(username: string): string {
    const ticket = `ST-${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}-${randomAlnum(20)}-cas`;
    this.tickets.set(ticket, { username, expiresAt: this.ctx.clock.nowSeconds() + 300 });
    return ticket;
  }

  private takeTicket(ticket: string | undefined): Ticket | undefined {
    if (ticket === undefined) return undefined;
    const t = this.tickets.get(ticket);
    this.tickets.delete(ticket);
    return t === undefined || t.expiresAt < this.ctx.clock.nowSeconds() ? undefined : t;
  }

  private jwt(account: GarminAccount, expiresAt: number): string {
    const enc = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    const payload = {
      sub: String(account.profileId),
      user_name: account.username,
      exp: expiresAt,
      jti: randomUUID(),
      iss: 'sandbox',
    };
    return `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc(payload)}.${randomAlnum(43)}`;
  }

  private tokenResponse(username: string): Record<string, unknown> {
    const issued = this.issueToken(username);
    return {
      scope: 'CONNECT_READ CONNECT_WRITE',
      jti: randomUUID(),
      token_type: 'Bearer',
      access_token: issued.accessToken,
      refresh_token: issued.refreshToken,
      expires_in: this.settings.sessionTtlSeconds,
      refresh_token_expires_in: this.settings.refreshTokenTtlSeconds,
    };
  }

  private preauthorized(req: Request, res: Response): void {
    if (!/^OAuth\s/i.test(req.headers.authorization ?? '')) {
      res.status(401).type('text/plain').send('OAuth signature required');
      return;
    }
    const ticket = this.takeTicket(queryString(req, 'ticket'));
    if (ticket === undefined) {
      res.status(401).type('text/plain').send('Invalid ticket');
      return;
    }
    res.locals.account = ticket.username;
    const token = randomHex(16);
    this.oauth1.set(token, ticket.username);
    const params = new URLSearchParams({ oauth_token: token, oauth_token_secret: randomHex(16) });
    if (this.requireAccount(ticket.username).mfa) {
      params.set('mfa_token', randomHex(16));
      params.set(
        'mfa_expiration_timestamp',
        formatUtc(this.ctx.clock.now() + 365 * 86_400_000, 'yyyy-MM-dd HH:mm:ss.SSS'),
      );
    }
    res.type('text/plain').send(params.toString());
  }

  private exchange(req: Request, res: Response): void {
    const header = req.headers.authorization ?? '';
    const token = /oauth_token="([^"]+)"/.exec(header)?.[1];
    const username = token === undefined ? undefined : this.oauth1.get(decodeURIComponent(token));
    if (!/^OAuth\s/i.test(header) || username === undefined) {
      res.status(401).type('text/plain').send('Invalid OAuth1 token');
      return;
    }
    res.locals.account = username;
    res.json(this.tokenResponse(username));
  }

  private diToken(req: Request, res: Response): void {
    const f = formBody(req);
    if (f.grant_type === 'refresh_token') {
      const s = this.refreshTokens.get(f.refresh_token ?? '');
      if (s === undefined || s.expiresAt < this.ctx.clock.nowSeconds()) {
        res.status(401).json({ error: 'invalid_grant', error_description: 'Invalid refresh token' });
        return;
      }
      this.refreshTokens.delete(f.refresh_token ?? '');
      res.locals.account = s.username;
      res.json(this.tokenResponse(s.username));
      return;
    }
    if (f.grant_type !== undefined && /service_ticket$/.test(f.grant_type)) {
      const ticket = this.takeTicket(f.service_ticket);
      if (ticket === undefined) {
        res.status(400).json({ error: 'invalid_grant', error_description: 'Invalid service ticket' });
        return;
      }
      res.locals.account = ticket.username;
      res.json(this.tokenResponse(ticket.username));
      return;
    }
    res.status(400).json({ error: 'unsupported_grant_type' });
  }

  private webLogin(req: Request, res: Response): void {
    const ticket = this.takeTicket(queryString(req, 'ticket'));
    if (ticket === undefined) {
      if (this.sessionFrom(req) !== undefined) {
        res.type('text/html').send('<html><head><title>Garmin Connect</title></head><body>sandbox</body></html>');
        return;
      }
      res.redirect(302, '/sso/signin');
      return;
    }
    const issued = this.issueToken(ticket.username);
    res.locals.account = ticket.username;
    res.append('Set-Cookie', `SESSIONID=${issued.accessToken}; Path=/; HttpOnly`);
    res.append('Set-Cookie', `JWT_WEB=${issued.accessToken}; Path=/; HttpOnly`);
    res.redirect(302, `${req.baseUrl}/modern/`);
  }

  // ---- API

  private sessionFrom(req: Request, includeExpired = false): Session | undefined {
    const cookies = parseCookies(req);
    const raw = bearerToken(req) ?? cookies.JWT_WEB ?? cookies.SESSIONID;
    const s = raw === undefined ? undefined : this.sessions.get(raw);
    if (s === undefined) return undefined;
    return includeExpired || s.expiresAt > this.ctx.clock.nowSeconds() ? s : undefined;
  }

  private withSession(req: Request, res: Response, handler: (account: GarminAccount) => void): void {
    const session = this.sessionFrom(req);
    const account = session === undefined ? undefined : this.accounts.get(session.username);
    if (account === undefined) {
      res.status(401).json({ message: 'HTTP 401 Unauthorized', error: 'Unauthorized' });
      return;
    }
    res.locals.account = account.username.toLowerCase();
    handler(account);
  }

  private withActivity(
    req: Request,
    res: Response,
    handler: (activity: GarminActivity, account: GarminAccount) => void,
  ): void {
    this.withSession(req, res, (account) => {
      const activity = this.activities.get(Number(req.params.id));
      if (activity === undefined || activity.ownerId !== account.profileId) {
        res.status(404).json({ message: `Activity ${String(req.params.id)} not found` });
        return;
      }
      handler(activity, account);
    });
  }

  private list(req: Request, res: Response): void {
    if (this.settings.roleSystemTrap && this.sessionFrom(req) === undefined) {
      // Reproduces the incident tapiriik guards against: a dead session got someone else's demo data with 200.
      res.json(this.demoData());
      return;
    }
    this.withSession(req, res, (account) => {
      const start = Math.max(0, Number(queryString(req, 'start') ?? 0) || 0);
      const limit = Math.max(0, Number(queryString(req, 'limit') ?? 20) || 20);
      const startDate = queryString(req, 'startDate');
      const endDate = queryString(req, 'endDate');
      const type = queryString(req, 'activityType');
      const asc = queryString(req, 'sortOrder') === 'asc';
      const items = this.listFor(account.username)
        .filter((a) => {
          const day = formatLocal(a.timezone, a.track.start, 'yyyy-MM-dd');
          if (startDate !== undefined && day < startDate) return false;
          if (endDate !== undefined && day > endDate) return false;
          if (
            type !== undefined &&
            a.typeKey !== type &&
            !(type === 'cycling' && typeForKey(a.typeKey).parentTypeId === 2) &&
            !(type === 'running' && typeForKey(a.typeKey).parentTypeId === 1)
          ) {
            return false;
          }
          return true;
        })
        .sort(
          (a, b) =>
            (asc ? a.track.start - b.track.start : b.track.start - a.track.start) || a.activityId - b.activityId,
        );
      res.json(items.slice(start, start + limit).map((a) => this.listJson(a, account)));
    });
  }

  private demoData(): Record<string, unknown>[] {
    const demoAccount: GarminAccount = {
      username: 'demo',
      password: '',
      displayName: 'Garmin Demo',
      fullName: 'Garmin Demo',
      profileId: 1,
      mfa: false,
      mfaCode: '',
      uploadConsent: true,
      timezone: 'America/Chicago',
    };
    const base = Date.UTC(2019, 5, 1, 12);
    return [0, 1, 2].map((i) => {
      const track: SimTrack = {
        start: base - i * 86_400_000,
        elapsed: 1800,
        moving: 1800,
        distance: 5000,
        sport: 'Run',
        points: [],
      };
      const activity: GarminActivity = {
        activityId: 1000 + i,
        ownerId: 1,
        name: `Demo Run ${i + 1}`,
        track,
        typeKey: 'running',
        timezone: 'America/Chicago',
        file: { format: 'fit', bytes: Buffer.alloc(0), name: 'demo.fit' },
        privacy: 'public',
        uploadedAt: base,
        fileHash: '',
      };
      return { ...this.listJson(activity, demoAccount), userRoles: ['ROLE_SYSTEM'] };
    });
  }

  private listJson(a: GarminActivity, account: GarminAccount): Record<string, unknown> {
    const t = a.track;
    const type = typeForKey(a.typeKey);
    const hr = t.points.map((p) => p.heartRate).filter((v): v is number => v !== undefined);
    return {
      activityId: a.activityId,
      activityName: a.name,
      ...(a.description === undefined ? {} : { description: a.description }),
      startTimeLocal: garminTime(t.start, a.timezone),
      startTimeGMT: garminTime(t.start),
      activityType: {
        typeId: type.typeId,
        typeKey: type.typeKey,
        parentTypeId: type.parentTypeId,
        isHidden: false,
        restricted: false,
        trimmable: true,
      },
      eventType: { typeId: 9, typeKey: 'uncategorized', sortOrder: 10 },
      distance: t.distance,
      duration: t.elapsed,
      elapsedDuration: t.elapsed,
      movingDuration: t.points.length === 0 ? null : t.moving,
      averageSpeed: t.elapsed > 0 ? t.distance / t.elapsed : 0,
      ...(hr.length > 0 ? { averageHR: Math.round(hr.reduce((s, v) => s + v, 0) / hr.length), maxHR: maxOf(hr) } : {}),
      startLatitude: t.points.find((p) => p.lat !== undefined)?.lat,
      startLongitude: t.points.find((p) => p.lon !== undefined)?.lon,
      ownerId: a.ownerId,
      ownerDisplayName: account.displayName,
      ownerFullName: account.fullName,
      timeZoneId: 124,
      beginTimestamp: t.start,
      sportTypeId: 1,
      deviceId: 3_945_849_289,
      manufacturer: (t.manufacturer ?? 'GARMIN').toUpperCase(),
      privacy: { typeId: a.privacy === 'private' ? 2 : 1, typeKey: a.privacy },
      manualActivity: false,
      hasPolyline: t.points.some((p) => p.lat !== undefined),
      userRoles: ['ROLE_CONNECTUSER', 'ROLE_FITNESS_USER', 'ROLE_WELLNESS_USER'],
      userPro: false,
      favorite: false,
      pr: false,
      parent: false,
    };
  }

  private detailJson(a: GarminActivity): Record<string, unknown> {
    const t = a.track;
    const type = typeForKey(a.typeKey);
    return {
      activityId: a.activityId,
      activityUUID: { uuid: randomUUID() },
      activityName: a.name,
      description: a.description,
      userProfileId: a.ownerId,
      isMultiSportParent: false,
      activityTypeDTO: {
        typeId: type.typeId,
        typeKey: type.typeKey,
        parentTypeId: type.parentTypeId,
        isHidden: false,
        restricted: false,
        trimmable: true,
      },
      eventTypeDTO: { typeId: 9, typeKey: 'uncategorized', sortOrder: 10 },
      accessControlRuleDTO: { typeId: a.privacy === 'private' ? 2 : 1, typeKey: a.privacy },
      timeZoneUnitDTO: { unitId: 124, unitKey: a.timezone, factor: 0, timeZone: a.timezone },
      metadataDTO: {
        isOriginal: true,
        deviceApplicationInstallationId: 1,
        fileFormat: { formatId: 7, formatKey: a.file.format },
        uploadedDate: formatUtc(a.uploadedAt, "yyyy-MM-dd'T'HH:mm:ss.S"),
        lastUpdateDate: formatUtc(a.uploadedAt, "yyyy-MM-dd'T'HH:mm:ss.S"),
        hasPolyline: t.points.some((p) => p.lat !== undefined),
        manualActivity: false,
      },
      summaryDTO: {
        startTimeLocal: formatLocal(a.timezone, t.start, "yyyy-MM-dd'T'HH:mm:ss.S"),
        startTimeGMT: formatUtc(t.start, "yyyy-MM-dd'T'HH:mm:ss.S"),
        distance: t.distance,
        duration: t.elapsed,
        movingDuration: t.moving,
        elapsedDuration: t.elapsed,
      },
    };
  }

  private profileJson(a: GarminAccount): Record<string, unknown> {
    return {
      id: a.profileId,
      profileId: a.profileId,
      displayName: a.displayName,
      userName: a.username,
      fullName: a.fullName,
    };
  }

  private update(req: Request, res: Response, activity: GarminActivity): void {
    const body = jsonBody(req);
    if (!isRecord(body)) {
      res.status(400).json({ message: 'Invalid JSON' });
      return;
    }
    if (typeof body.activityName === 'string') activity.name = body.activityName;
    if (typeof body.description === 'string') activity.description = body.description;
    const typeDto = body.activityTypeDTO;
    if (isRecord(typeDto) && typeof typeDto.typeKey === 'string') activity.typeKey = typeDto.typeKey;
    const acl = body.accessControlRuleDTO;
    if (isRecord(acl) && (acl.typeKey === 'private' || acl.typeKey === 'public')) activity.privacy = acl.typeKey;
    res.status(204).end();
  }

  private download(res: Response, activity: GarminActivity): void {
    const name = `${activity.activityId}_ACTIVITY.${activity.file.format}`;
    const zip = zipSync({ [name]: new Uint8Array(activity.file.bytes) });
    res.setHeader('Content-Type', 'application/x-zip-compressed');
    res.setHeader('Content-Disposition', `attachment; filename="${activity.activityId}.zip"`);
    res.status(200).send(Buffer.from(zip));
  }

  private importResult(o: {
    uploadId: number;
    uuid: string;
    owner: number;
    fileSize: number;
    creationDate: number;
    fileName: string;
    successes?: unknown[];
    failures?: unknown[];
  }): Record<string, unknown> {
    return {
      detailedImportResult: {
        uploadId: o.uploadId,
        uploadUuid: { uuid: o.uuid },
        owner: o.owner,
        fileSize: o.fileSize,
        processingTime: 36,
        creationDate: `${formatUtc(o.creationDate, 'yyyy-MM-dd HH:mm:ss.SSS')} GMT`,
        ipAddress: null,
        fileName: o.fileName,
        report: null,
        successes: o.successes ?? [],
        failures: o.failures ?? [],
      },
    };
  }

  private upload(req: Request, res: Response): void {
    this.withSession(req, res, (account) => {
      const parts = multipartBody(req);
      const file =
        parts.find((p) => (p.name === 'file' || p.name === 'data') && p.filename !== undefined) ??
        parts.find((p) => p.name === 'file' || p.name === 'data');
      if (file === undefined || file.data.length === 0) {
        res.status(400).json({ message: 'Required request part file is not present' });
        return;
      }
      const routeExt = typeof req.params.ext === 'string' ? req.params.ext.replace(/^\./, '').toLowerCase() : undefined;
      const fileName = file.filename ?? `upload.${routeExt ?? 'fit'}`;
      const bytes = maybeGunzip(file.data);
      const format =
        formatFromName(fileName) ??
        (routeExt === undefined ? undefined : formatFromName(`x.${routeExt}`)) ??
        sniffFormat(bytes);
      const uploadId = this.uploadIds.take();
      const uuid = randomUUID();
      const creationDate = this.ctx.clock.now();
      const base = { uploadId, uuid, owner: account.profileId, fileSize: file.data.length, creationDate, fileName };
      const failure = (status: number, code: number, content: string, internalId: number | null = null): void => {
        res
          .status(status)
          .json(
            this.importResult({ ...base, failures: [{ internalId, externalId: null, messages: [{ code, content }] }] }),
          );
      };
      if (format === undefined) {
        failure(415, 3, 'Unsupported file type.');
        return;
      }
      if (!account.uploadConsent) {
        failure(412, 3, 'The user is from EU location, but upload consent is not yet granted or revoked');
        return;
      }
      let track: SimTrack;
      try {
        track = decodeTrack(bytes, format);
      } catch (err) {
        failure(400, 3, err instanceof SimFileError ? err.message : 'Unable to process the file.');
        return;
      }
      const hash = sha1(bytes);
      if (this.settings.duplicateDetection) {
        const tolerance = this.settings.duplicateToleranceSeconds * 1000;
        const existing = this.listFor(account.username).find(
          (a) => a.fileHash === hash || Math.abs(a.track.start - track.start) <= tolerance,
        );
        if (existing !== undefined) {
          failure(409, 202, 'Duplicate Activity.', existing.activityId);
          return;
        }
      }
      const activity = this.addActivity(account.username, track, { file: { format, bytes, name: fileName } });
      const uuidKey = uuid.replace(/-/g, '');
      this.uploads.set(uuidKey, {
        uuid,
        uploadId,
        ownerId: account.profileId,
        creationDate,
        fileName,
        fileSize: file.data.length,
        activityId: activity.activityId,
        pollsLeft: this.settings.uploadProcessingPolls,
      });
      res.setHeader('Location', `${this.baseUrl(req)}/activity-service/activity/status/${creationDate}/${uuidKey}`);
      res.status(202).json(this.importResult(base));
    });
  }

  private baseUrl(req: Request): string {
    const host = req.headers.host ?? 'localhost';
    const prefix = req.baseUrl.replace(/\/(modern\/proxy|proxy|gc-api)$/, '');
    return `${req.protocol}://${host}${prefix}`;
  }

  private uploadStatus(req: Request, res: Response): void {
    this.withSession(req, res, (account) => {
      const pending = this.uploads.get(String(req.params.uuid).replace(/-/g, ''));
      if (pending === undefined || pending.ownerId !== account.profileId) {
        res.status(404).json({ message: 'Upload not found' });
        return;
      }
      const base = { ...pending, owner: pending.ownerId };
      if (pending.pollsLeft > 0) {
        pending.pollsLeft--;
        res.status(202).json(this.importResult(base));
        return;
      }
      const exists = this.activities.has(pending.activityId);
      res.setHeader('Location', `${this.baseUrl(req)}/activity-service/activity/${pending.activityId}`);
      res.status(201).json(
        this.importResult({
          ...base,
          successes: exists ? [{ internalId: pending.activityId, externalId: null, messages: null }] : [],
          failures: exists
            ? []
            : [
                {
                  internalId: pending.activityId,
                  externalId: null,
                  messages: [{ code: 404, content: 'Activity deleted' }],
                },
              ],
        }),
      );
    });
  }
}

/** Garmin names activities "<place> <Type>"; the simulator has no geocoder, so the place is fixed. */
function defaultName(typeKey: string): string {
  return `Sandbox ${typeKey.replace(/_/g, ' ').replace(/\b\w/g, (c) => c.toUpperCase())}`;
}
