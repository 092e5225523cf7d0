import { Router, type NextFunction, type Request, type Response } from 'express';
import { DomainError, NotFoundError, ValidationError } from '@tributary/common';
import { isRecord, jsonBody, queryString } from '../core/http.util';
import { resolveActivitySource, type FixtureLibrary } from '../core/fixtures.util';
import { RequestLog, type RequestLogFilter } from '../core/request-log.service';
import { SandboxInputError } from '../core/sandbox.error';
import type { SandboxContext } from '../core/sandbox.context';
import type { DropboxAccount, DropboxSimulator } from '../dropbox/dropbox.simulator';
import type { GarminActivity, GarminSimulator } from '../garmin/garmin.simulator';
import type { StravaSimulator } from '../strava/strava.simulator';

export interface Simulators {
  strava: StravaSimulator;
  garmin: GarminSimulator;
  dropbox: DropboxSimulator;
}

function body(req: Request): Record<string, unknown> {
  const parsed = jsonBody(req);
  if (parsed === undefined) return {};
  if (!isRecord(parsed)) throw new SandboxInputError('Body must be a JSON object');
  return parsed;
}

function str(o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' && typeof v !== 'number') throw new SandboxInputError(`${key} must be a string`);
  return String(v);
}

function requiredStr(o: Record<string, unknown>, key: string): string {
  const v = str(o, key);
  if (v === undefined || v === '') throw new SandboxInputError(`${key} is required`);
  return v;
}

function num(o: Record<string, unknown>, key: string): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new SandboxInputError(`${key} must be a number`);
  return v;
}

function bool(o: Record<string, unknown>, key: string): boolean | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new SandboxInputError(`${key} must be a boolean`);
  return v;
}

function scopes(v: unknown, fallback: string[]): string[] {
  if (v === undefined) return fallback;
  if (typeof v === 'string') return v.split(/[\s,]+/).filter((s) => s !== '');
  if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v;
  throw new SandboxInputError('scope must be a string or an array of strings');
}

/** Merges a partial settings object, refusing unknown keys and values of the wrong type. */
function patchSettings(target: object, patch: unknown, label: string): void {
  if (!isRecord(patch)) throw new SandboxInputError(`${label} settings must be an object`);
  const t = target as Record<string, unknown>;
  for (const [key, value] of Object.entries(patch)) {
    if (!(key in t) && value !== null) {
      // Optional settings (e.g. dropbox.webhookUrl) are absent until set; accept strings/numbers for them.
      if (typeof value !== 'string' && typeof value !== 'number')
        throw new SandboxInputError(`Unknown ${label} setting ${key}`);
    }
    const current = t[key];
    if (current !== undefined && value !== null && typeof current !== typeof value) {
      throw new SandboxInputError(`${label}.${key} must be a ${typeof current}`);
    }
    if (value === null) delete t[key];
    else t[key] = value;
  }
}

export function controlRouter(ctx: SandboxContext, sims: Simulators, fixtures: FixtureLibrary): Router {
  const r = Router();
  const { strava, garmin, dropbox } = sims;

  r.get('/health', (_req, res) => {
    res.json({ ok: true });
  });

  r.get('/state', (_req, res) => {
    res.json({
      clock: { now: new Date(ctx.clock.now()).toISOString(), offsetMs: ctx.clock.offset },
      strava: {
        athletes: strava.athletes.size,
        activities: strava.activities.size,
        uploads: strava.uploads.size,
        subscription: strava.getSubscription() ?? null,
      },
      garmin: { accounts: garmin.accounts.size, activities: garmin.activities.size },
      dropbox: {
        accounts: dropbox.accounts.size,
        files: [...dropbox.accounts.values()].reduce(
          (n, a) => n + [...a.entries.values()].filter((e) => e.tag === 'file').length,
          0,
        ),
      },
      faults: ctx.faults.list().length,
      requests: ctx.log.lastSeq,
      fixtures: fixtures.directory ?? null,
    });
  });

  r.post('/reset', (_req, res) => {
    strava.reset();
    garmin.reset();
    dropbox.reset();
    ctx.faults.clear();
    ctx.log.clear();
    ctx.clock.reset();
    ctx.deliveries.length = 0;
    res.json({ reset: true });
  });

  r.get('/settings', (_req, res) => {
    res.json({ strava: strava.settings, garmin: garmin.settings, dropbox: dropbox.settings });
  });

  r.patch('/settings', (req, res) => {
    const b = body(req);
    if (b.strava !== undefined) patchSettings(strava.settings, b.strava, 'strava');
    if (b.garmin !== undefined) patchSettings(garmin.settings, b.garmin, 'garmin');
    if (b.dropbox !== undefined) patchSettings(dropbox.settings, b.dropbox, 'dropbox');
    res.json({ strava: strava.settings, garmin: garmin.settings, dropbox: dropbox.settings });
  });

  r.get('/clock', (_req, res) => {
    res.json({ now: new Date(ctx.clock.now()).toISOString(), offsetMs: ctx.clock.offset });
  });
  r.post('/clock', (req, res) => {
    const seconds = num(body(req), 'advanceSeconds');
    if (seconds === undefined) throw new SandboxInputError('advanceSeconds is required');
    ctx.clock.advance(seconds * 1000);
    res.json({ now: new Date(ctx.clock.now()).toISOString(), offsetMs: ctx.clock.offset });
  });
  r.delete('/clock', (_req, res) => {
    ctx.clock.reset();
    res.json({ now: new Date(ctx.clock.now()).toISOString(), offsetMs: 0 });
  });

  // ---- faults
  r.post('/faults', (req, res) => {
    res.status(201).json(ctx.faults.add(body(req)));
  });
  r.get('/faults', (_req, res) => {
    res.json(ctx.faults.list());
  });
  r.delete('/faults', (_req, res) => {
    ctx.faults.clear();
    res.status(204).end();
  });
  r.delete('/faults/:id', (req, res) => {
    if (!ctx.faults.remove(String(req.params.id))) throw new NotFoundError('Fault', String(req.params.id));
    res.status(204).end();
  });

  // ---- request log
  r.get('/requests', (req, res) => {
    const q = (k: string): string | undefined => queryString(req, k);
    const status = q('status');
    const since = q('sinceSeq');
    const filter: RequestLogFilter = {
      service: q('service'),
      mount: q('mount'),
      method: q('method'),
      path: q('path'),
      pathPrefix: q('pathPrefix'),
      route: q('route'),
      account: q('account'),
      status: status === undefined ? undefined : Number(status),
      sinceSeq: since === undefined ? undefined : Number(since),
    };
    const entries = ctx.log.query(filter);
    res.json({
      total: entries.length,
      lastSeq: ctx.log.lastSeq,
      counts: RequestLog.counts(entries),
      requests: entries,
    });
  });
  r.delete('/requests', (_req, res) => {
    ctx.log.clear();
    res.status(204).end();
  });

  // ---- outbound deliveries
  r.get('/deliveries', (_req, res) => {
    res.json(ctx.deliveries);
  });
  r.delete('/deliveries', (_req, res) => {
    ctx.deliveries.length = 0;
    res.status(204).end();
  });
  r.post('/settle', async (_req, res) => {
    const n = ctx.background.size;
    await Promise.all([...ctx.background]);
    res.json({ settled: n });
  });

  r.get('/fixtures', (_req, res) => {
    res.json({ directory: fixtures.directory ?? null, files: fixtures.list() });
  });

  // ---- Strava
  r.post('/strava/apps', (req, res) => {
    const b = body(req);
    strava.apps.set(requiredStr(b, 'clientId'), requiredStr(b, 'clientSecret'));
    res.status(201).json({ clientId: b.clientId });
  });
  r.post('/strava/athletes', (req, res) => {
    const b = body(req);
    const athlete = strava.createAthlete({
      id: num(b, 'id'),
      username: str(b, 'username'),
      firstname: str(b, 'firstname'),
      lastname: str(b, 'lastname'),
      timezone: str(b, 'timezone'),
    });
    let token: Record<string, unknown> | undefined;
    if (b.token !== undefined && b.token !== false) {
      const t = isRecord(b.token) ? b.token : {};
      const issued = strava.issueToken(
        athlete.id,
        scopes(t.scope, ['activity:read_all', 'activity:write']),
        undefined,
        num(t, 'expiresIn'),
      );
      token = {
        access_token: issued.accessToken,
        refresh_token: issued.refreshToken,
        expires_at: issued.expiresAt,
        scope: issued.scopes.join(','),
      };
    }
    res.status(201).json({ athlete: strava.athleteJson(athlete, 3), ...(token === undefined ? {} : { token }) });
  });
  r.get('/strava/athletes', (_req, res) => {
    res.json([...strava.athletes.values()].map((a) => strava.athleteJson(a, 3)));
  });
  r.post('/strava/tokens', (req, res) => {
    const b = body(req);
    const athlete = strava.requireAthlete(b.athlete);
    const t = strava.issueToken(
      athlete.id,
      scopes(b.scope, ['activity:read_all', 'activity:write']),
      str(b, 'clientId'),
      num(b, 'expiresIn'),
    );
    res.status(201).json({
      access_token: t.accessToken,
      refresh_token: t.refreshToken,
      expires_at: t.expiresAt,
      scope: t.scopes.join(','),
    });
  });
  r.post('/strava/tokens/expire', (req, res) => {
    const b = body(req);
    const athlete = b.athlete === undefined ? undefined : strava.requireAthlete(b.athlete).id;
    res.json({ expired: strava.expireTokens(athlete) });
  });
  r.post('/strava/revoke', (req, res) => {
    const b = body(req);
    const athlete = strava.requireAthlete(b.athlete);
    res.json({ revoked: strava.revokeAthlete(athlete.id, undefined, bool(b, 'notify') ?? false) });
  });
  r.post('/strava/activities', (req, res) => {
    const b = body(req);
    const athlete = strava.requireAthlete(b.athlete);
    const source = resolveActivitySource(b, fixtures, 'fit');
    const activity = strava.addActivity(
      athlete.id,
      source.track,
      {
        id: num(b, 'id'),
        name: str(b, 'name'),
        sportType: str(b, 'sportType'),
        private: bool(b, 'private'),
        manual: bool(b, 'manual'),
        trainer: bool(b, 'trainer'),
        commute: bool(b, 'commute'),
        description: str(b, 'description'),
        externalId: str(b, 'externalId') ?? null,
        timezone: str(b, 'timezone'),
      },
      bool(b, 'notify') ?? true,
    );
    res.status(201).json(strava.activityJson(activity, 3));
  });
  r.get('/strava/activities', (req, res) => {
    const ref = queryString(req, 'athlete');
    const owner = ref === undefined ? undefined : strava.requireAthlete(ref).id;
    const list = [...strava.activities.values()].filter((a) => owner === undefined || a.athleteId === owner);
    res.json(list.map((a) => strava.activityJson(a, 3)));
  });
  r.delete('/strava/activities/:id', (req, res) => {
    if (!strava.deleteActivity(Number(req.params.id), queryString(req, 'notify') !== 'false')) {
      throw new NotFoundError('Strava activity', String(req.params.id));
    }
    res.status(204).end();
  });
  r.get('/strava/uploads', (_req, res) => {
    res.json(
      [...strava.uploads.values()].map((u) => ({
        id: u.id,
        athleteId: u.athleteId,
        filename: u.filename,
        dataType: u.dataType,
        status: u.status,
        error: u.error,
        activityId: u.activityId,
        externalId: u.externalIdSent,
        pollsLeft: u.pollsLeft,
        size: u.bytes.length,
      })),
    );
  });
  r.post('/strava/events', async (req, res) => {
    const b = body(req);
    res.json(await strava.sendEvent(b, str(b, 'callbackUrl')));
  });
  r.get('/strava/subscription', (_req, res) => {
    res.json(strava.getSubscription() ?? null);
  });
  r.put('/strava/subscription', (req, res) => {
    const b = body(req);
    res.json(strava.setSubscription(requiredStr(b, 'callbackUrl'), str(b, 'verifyToken')));
  });
  r.get('/strava/rate-limit', (req, res) => {
    res.json({ limits: strava.settings.rateLimits, usage: strava.rateUsage(queryString(req, 'clientId')) });
  });
  r.put('/strava/rate-limit', (req, res) => {
    const b = body(req);
    const clientId = str(b, 'clientId') ?? strava.settings.clientId;
    const usage: Record<string, number> = {};
    for (const k of ['overall15', 'overallDay', 'read15', 'readDay']) {
      const v = num(b, k);
      if (v !== undefined) usage[k] = v;
    }
    strava.setRateUsage(clientId, usage);
    res.json({ limits: strava.settings.rateLimits, usage: strava.rateUsage(clientId) });
  });

  // ---- Garmin
  r.post('/garmin/accounts', (req, res) => {
    const b = body(req);
    const account = garmin.createAccount({
      username: requiredStr(b, 'username'),
      password: requiredStr(b, 'password'),
      displayName: str(b, 'displayName'),
      fullName: str(b, 'fullName'),
      mfa: bool(b, 'mfa'),
      mfaCode: str(b, 'mfaCode'),
      uploadConsent: bool(b, 'uploadConsent'),
      timezone: str(b, 'timezone'),
    });
    res.status(201).json(garminAccountJson(account));
  });
  r.get('/garmin/accounts', (_req, res) => {
    res.json([...garmin.accounts.values()].map(garminAccountJson));
  });
  r.post('/garmin/tokens', (req, res) => {
    const t = garmin.issueToken(requiredStr(body(req), 'username'));
    res.status(201).json({ access_token: t.accessToken, refresh_token: t.refreshToken, expires_at: t.expiresAt });
  });
  r.post('/garmin/sessions/expire', (req, res) => {
    const b = body(req);
    res.json({ expired: garmin.expireSessions(str(b, 'username'), bool(b, 'includeRefresh') ?? false) });
  });
  r.post('/garmin/activities', (req, res) => {
    const b = body(req);
    const username = requiredStr(b, 'username');
    const source = resolveActivitySource(b, fixtures, 'fit');
    const privacy = str(b, 'privacy');
    const activity = garmin.addActivity(username, source.track, {
      id: num(b, 'id'),
      name: str(b, 'name'),
      description: str(b, 'description'),
      typeKey: str(b, 'typeKey'),
      privacy: privacy === 'public' || privacy === 'private' ? privacy : undefined,
      file: { format: source.format, bytes: source.bytes, name: source.name },
    });
    res.status(201).json(garminActivityJson(activity));
  });
  r.get('/garmin/activities', (req, res) => {
    res.json(garmin.listFor(queryString(req, 'username')).map(garminActivityJson));
  });
  r.delete('/garmin/activities/:id', (req, res) => {
    if (!garmin.activities.delete(Number(req.params.id)))
      throw new NotFoundError('Garmin activity', String(req.params.id));
    res.status(204).end();
  });

  // ---- Dropbox
  r.post('/dropbox/apps', (req, res) => {
    const b = body(req);
    dropbox.apps.set(requiredStr(b, 'clientId'), requiredStr(b, 'clientSecret'));
    res.status(201).json({ clientId: b.clientId });
  });
  r.post('/dropbox/accounts', (req, res) => {
    const b = body(req);
    const account = dropbox.createAccount({
      accountId: str(b, 'accountId'),
      email: str(b, 'email'),
      displayName: str(b, 'displayName'),
      quotaBytes: num(b, 'quotaBytes'),
    });
    let token: Record<string, unknown> | undefined;
    if (b.token !== undefined && b.token !== false) {
      const t = isRecord(b.token) ? b.token : {};
      const issued = dropbox.issueToken(
        account.accountId,
        scopes(t.scope, ['account_info.read', 'files.metadata.read', 'files.content.read', 'files.content.write']),
        bool(t, 'offline') ?? true,
        num(t, 'expiresIn'),
      );
      token = { access_token: issued.accessToken, refresh_token: issued.refreshToken, expires_at: issued.expiresAt };
    }
    res.status(201).json({ ...dropboxAccountJson(account), ...(token === undefined ? {} : { token }) });
  });
  r.get('/dropbox/accounts', (_req, res) => {
    res.json([...dropbox.accounts.values()].map(dropboxAccountJson));
  });
  r.patch('/dropbox/accounts/:id', (req, res) => {
    const account = dropbox.requireAccount(String(req.params.id));
    const quota = num(body(req), 'quotaBytes');
    if (quota !== undefined) account.quotaBytes = quota;
    res.json(dropboxAccountJson(account));
  });
  r.post('/dropbox/tokens', (req, res) => {
    const b = body(req);
    const account = dropbox.requireAccount(b.account);
    const t = dropbox.issueToken(
      account.accountId,
      scopes(b.scope, ['account_info.read', 'files.metadata.read', 'files.content.read', 'files.content.write']),
      bool(b, 'offline') ?? true,
      num(b, 'expiresIn'),
    );
    res.status(201).json({ access_token: t.accessToken, refresh_token: t.refreshToken, expires_at: t.expiresAt });
  });
  r.post('/dropbox/tokens/expire', (req, res) => {
    const b = body(req);
    const account = b.account === undefined ? undefined : dropbox.requireAccount(b.account).accountId;
    res.json({ expired: dropbox.expireTokens(account) });
  });
  r.post('/dropbox/revoke', (req, res) => {
    res.json({ revoked: dropbox.revokeAccount(dropbox.requireAccount(body(req).account).accountId) });
  });
  r.post('/dropbox/files', (req, res) => {
    const b = body(req);
    const account = dropbox.requireAccount(b.account);
    const path = requiredStr(b, 'path');
    let bytes: Buffer;
    if (typeof b.text === 'string') {
      bytes = Buffer.from(b.text, 'utf8');
    } else {
      const fromPath = /\.(fit|tcx|gpx)$/i.exec(path)?.[1]?.toLowerCase() as 'fit' | 'tcx' | 'gpx' | undefined;
      bytes = resolveActivitySource(b, fixtures, fromPath ?? 'tcx').bytes;
    }
    const entry = dropbox.putFile(account, path, bytes, str(b, 'clientModified'));
    res.status(201).json(dropbox.metadata(entry));
  });
  r.get('/dropbox/files', (req, res) => {
    res.json(dropbox.listFiles(dropbox.requireAccount(queryString(req, 'account'))));
  });
  r.get('/dropbox/files/content', (req, res) => {
    const account = dropbox.requireAccount(queryString(req, 'account'));
    const entry = account.entries.get((queryString(req, 'path') ?? '').toLowerCase());
    if (entry?.bytes === undefined) throw new NotFoundError('Dropbox file', queryString(req, 'path'));
    res.type('application/octet-stream').send(entry.bytes);
  });
  r.delete('/dropbox/files', (req, res) => {
    const account = dropbox.requireAccount(queryString(req, 'account'));
    if (!dropbox.deleteFile(account, queryString(req, 'path') ?? ''))
      throw new NotFoundError('Dropbox file', queryString(req, 'path'));
    res.status(204).end();
  });
  r.post('/dropbox/reset-cursors', (req, res) => {
    const account = dropbox.requireAccount(body(req).account);
    account.cursorEpoch++;
    dropbox.wakeAll();
    res.json({ cursorEpoch: account.cursorEpoch });
  });
  r.put('/dropbox/webhook', async (req, res) => {
    const b = body(req);
    const url = str(b, 'url');
    if (url === undefined) {
      delete dropbox.settings.webhookUrl;
      res.json({ url: null });
      return;
    }
    if (bool(b, 'verify') === false) {
      dropbox.settings.webhookUrl = url;
      res.json({ url, verified: false });
      return;
    }
    const check = await dropbox.verifyWebhook(url);
    if (!check.ok) {
      res
        .status(400)
        .json({ error: 'Webhook verification failed: the URL must echo the challenge with 200', result: check.result });
      return;
    }
    dropbox.settings.webhookUrl = url;
    res.json({ url, verified: true });
  });
  r.post('/dropbox/notify', async (req, res) => {
    const b = body(req);
    const ids = Array.isArray(b.accounts)
      ? b.accounts.map((a) => dropbox.requireAccount(a).accountId)
      : [...dropbox.accounts.keys()];
    res.json(await dropbox.notify(ids, str(b, 'url')));
  });

  r.use((req, res) => {
    res.status(404).json({ error: `No control endpoint ${req.method} ${req.path}` });
  });
  r.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof ValidationError) res.status(400).json({ error: err.message });
    else if (err instanceof NotFoundError) res.status(404).json({ error: err.message });
    else if (err instanceof DomainError) res.status(400).json({ error: err.message, code: err.code });
    else res.status(500).json({ error: err instanceof Error ? err.message : String(err) });
  });
  return r;
}

function garminAccountJson(a: {
  username: string;
  displayName: string;
  profileId: number;
  mfa: boolean;
  uploadConsent: boolean;
  timezone: string;
}): Record<string, unknown> {
  return {
    username: a.username,
    displayName: a.displayName,
    profileId: a.profileId,
    mfa: a.mfa,
    uploadConsent: a.uploadConsent,
    timezone: a.timezone,
  };
}

function garminActivityJson(a: GarminActivity): Record<string, unknown> {
  return {
    activityId: a.activityId,
    ownerId: a.ownerId,
    activityName: a.name,
    description: a.description ?? null,
    typeKey: a.typeKey,
    startTimeGMT: new Date(a.track.start).toISOString(),
    timezone: a.timezone,
    durationSeconds: a.track.elapsed,
    distanceMeters: a.track.distance,
    fileFormat: a.file.format,
    fileName: a.file.name,
    fileSize: a.file.bytes.length,
    privacy: a.privacy,
  };
}

function dropboxAccountJson(a: DropboxAccount): Record<string, unknown> {
  let used = 0;
  for (const e of a.entries.values()) used += e.size ?? 0;
  return {
    accountId: a.accountId,
    uid: a.uid,
    email: a.email,
    displayName: a.displayName,
    quotaBytes: a.quotaBytes,
    usedBytes: used,
  };
}
