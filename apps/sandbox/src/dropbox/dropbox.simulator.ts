import { createHash, createHmac } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { IdSequence, randomAlnum, randomHex } from '../core/ids.util';
import { bearerToken, escapeHtml, formBody, isRecord, jsonBody, queryString, rawBody } from '../core/http.util';
import { deliver, type DeliveryResult } from '../core/outbound.util';
import { runInBackground, serviceGate, type SandboxContext } from '../core/sandbox.context';
import type { MountName } from '../core/request-log.service';
import { SandboxInputError, SandboxNotFoundError } from '../core/sandbox.error';
import { dropboxContentHash } from './content-hash.util';
import { DEFAULT_DROPBOX_SETTINGS, type DropboxSettings } from './dropbox.settings';

export const DROPBOX_SCOPES = ['account_info.read', 'files.metadata.read', 'files.content.read', 'files.content.write'];

export interface DropboxEntry {
  tag: 'file' | 'folder';
  id: string;
  pathLower: string;
  pathDisplay: string;
  name: string;
  rev?: string;
  size?: number;
  contentHash?: string;
  bytes?: Buffer;
  clientModified?: string;
  serverModified?: string;
}

interface JournalItem {
  seq: number;
  pathLower: string;
  pathDisplay: string;
  name: string;
}

export interface DropboxAccount {
  accountId: string;
  uid: number;
  email: string;
  displayName: string;
  quotaBytes: number;
  entries: Map<string, DropboxEntry>;
  /** Every revision ever written, for `rev:` downloads. */
  revisions: Map<string, DropboxEntry>;
  journal: JournalItem[];
  seq: number;
  /** Bumped to invalidate every outstanding cursor (list_folder/continue then answers `reset`). */
  cursorEpoch: number;
  waiters: Set<() => void>;
}

interface DropboxToken {
  accountId: string;
  clientId: string;
  scopes: string[];
  expiresAt: number;
  refreshToken?: string;
}

interface DropboxCode {
  accountId: string;
  clientId: string;
  redirectUri?: string;
  scopes: string[];
  offline: boolean;
  codeChallenge?: string;
  expiresAt: number;
}

interface Cursor {
  a: string;
  p: string;
  r: boolean;
  d: boolean;
  l: number;
  /** journal seq the listing is consistent with */
  s: number;
  /** during the initial listing: last path emitted ('' = none yet); absent once in delta mode */
  k?: string;
  e: number;
}

type ErrorBody = { summary: string; error: Record<string, unknown> };

function nowIso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function parentOf(pathLower: string): string {
  const i = pathLower.lastIndexOf('/');
  return i <= 0 ? '' : pathLower.slice(0, i);
}

/** Dropbox API v2 simulator (service-apis.md §3): OAuth, files RPC, content and notify hosts, webhooks. */
export class DropboxSimulator {
  settings: DropboxSettings;
  readonly accounts = new Map<string, DropboxAccount>();
  readonly apps = new Map<string, string>();
  private readonly tokens = new Map<string, DropboxToken>();
  private readonly refreshTokens = new Map<string, DropboxToken>();
  private readonly codes = new Map<string, DropboxCode>();
  private readonly uids = new IdSequence(12_345_678);
  private readonly pendingNotify = new Set<string>();
  private notifyTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: SandboxContext,
    settings: Partial<DropboxSettings> = {},
  ) {
    this.settings = { ...DEFAULT_DROPBOX_SETTINGS, ...settings };
    this.apps.set(this.settings.clientId, this.settings.clientSecret);
  }

  reset(): void {
    this.wakeAll();
    for (const map of [this.accounts, this.tokens, this.refreshTokens, this.codes]) map.clear();
    this.apps.clear();
    this.apps.set(this.settings.clientId, this.settings.clientSecret);
    this.uids.reset();
    this.pendingNotify.clear();
    if (this.notifyTimer !== undefined) clearTimeout(this.notifyTimer);
    this.notifyTimer = undefined;
  }

  /** Ends every waiting longpoll (shutdown/reset) so no request is left hanging. */
  wakeAll(): void {
    for (const account of this.accounts.values()) for (const wake of [...account.waiters]) wake();
  }

  // ---------------------------------------------------------------- control-side operations

  createAccount(
    input: { accountId?: string; email?: string; displayName?: string; quotaBytes?: number } = {},
  ): DropboxAccount {
    const uid = this.uids.take();
    const accountId = input.accountId ?? `dbid:AA${randomAlnum(41)}`;
    const account: DropboxAccount = {
      accountId,
      uid,
      email: input.email ?? `user${uid}@example.com`,
      displayName: input.displayName ?? `Sandbox User ${uid}`,
      quotaBytes: input.quotaBytes ?? this.settings.defaultQuotaBytes,
      entries: new Map(),
      revisions: new Map(),
      journal: [],
      seq: 0,
      cursorEpoch: 0,
      waiters: new Set(),
    };
    this.accounts.set(accountId, account);
    return account;
  }

  findAccount(ref: string): DropboxAccount | undefined {
    return this.accounts.get(ref) ?? [...this.accounts.values()].find((a) => a.email === ref || String(a.uid) === ref);
  }

  requireAccount(ref: unknown): DropboxAccount {
    const account = typeof ref === 'string' || typeof ref === 'number' ? this.findAccount(String(ref)) : undefined;
    if (account === undefined) throw new SandboxNotFoundError('Dropbox account', String(ref));
    return account;
  }

  issueToken(
    accountId: string,
    scopes = DROPBOX_SCOPES,
    offline = true,
    ttlSeconds?: number,
  ): { accessToken: string; refreshToken?: string; expiresAt: number } {
    const token: DropboxToken = {
      accountId,
      clientId: this.settings.clientId,
      scopes,
      expiresAt: this.ctx.clock.nowSeconds() + (ttlSeconds ?? this.settings.accessTokenTtlSeconds),
      refreshToken: offline ? randomAlnum(64) : undefined,
    };
    const accessToken = `sl.${randomAlnum(120)}`;
    this.tokens.set(accessToken, token);
    if (token.refreshToken !== undefined) this.refreshTokens.set(token.refreshToken, token);
    return { accessToken, refreshToken: token.refreshToken, expiresAt: token.expiresAt };
  }

  revokeAccount(accountId: string): number {
    let n = 0;
    for (const [key, t] of [...this.tokens]) {
      if (t.accountId === accountId) {
        this.tokens.delete(key);
        n++;
      }
    }
    for (const [key, t] of [...this.refreshTokens]) if (t.accountId === accountId) this.refreshTokens.delete(key);
    return n;
  }

  expireTokens(accountId?: string): number {
    let n = 0;
    for (const t of this.tokens.values()) {
      if (accountId === undefined || t.accountId === accountId) {
        t.expiresAt = this.ctx.clock.nowSeconds() - 1;
        n++;
      }
    }
    return n;
  }

  /** Writes a file as the owner would (control API); returns its metadata. Overwrites unconditionally. */
  putFile(account: DropboxAccount, path: string, bytes: Buffer, clientModified?: string): DropboxEntry {
    if (!path.startsWith('/') || path.endsWith('/'))
      throw new SandboxInputError(`Dropbox path must start with / : ${path}`);
    const result = this.write(account, {
      path,
      lower: path.toLowerCase(),
      bytes,
      mode: 'overwrite',
      autorename: false,
      clientModified,
    });
    if ('summary' in result) throw new SandboxInputError(`cannot write ${path}: ${result.summary}`);
    return result;
  }

  deleteFile(account: DropboxAccount, path: string): boolean {
    return this.remove(account, path.toLowerCase()) !== undefined;
  }

  listFiles(account: DropboxAccount): Record<string, unknown>[] {
    return [...account.entries.values()]
      .sort((a, b) => a.pathLower.localeCompare(b.pathLower))
      .map((e) => this.metadata(e));
  }

  /** Sends a signed change notification for the given accounts to the webhook URL (or `url`). */
  async notify(accountIds: string[], url?: string): Promise<DeliveryResult> {
    const target = url ?? this.settings.webhookUrl;
    if (target === undefined) throw new SandboxInputError('No Dropbox webhook URL configured; pass url');
    const uids = accountIds.map((id) => this.accounts.get(id)?.uid).filter((u): u is number => u !== undefined);
    const body = JSON.stringify({ list_folder: { accounts: accountIds }, delta: { users: uids } });
    const signature = createHmac('sha256', this.settings.clientSecret).update(body).digest('hex');
    const result = await deliver(
      target,
      { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-dropbox-signature': signature } },
      {
        timeoutMs: this.settings.webhookTimeoutMs,
        attempts: this.settings.webhookAttempts,
        retryDelayMs: this.settings.webhookRetryDelayMs,
      },
    );
    this.ctx.deliveries.push({
      ...result,
      service: 'dropbox',
      kind: 'notification',
      at: new Date(this.ctx.clock.now()).toISOString(),
    });
    return result;
  }

  /** The verification handshake Dropbox performs when a webhook URL is added in the app console. */
  async verifyWebhook(url: string): Promise<{ ok: boolean; challenge: string; result: DeliveryResult }> {
    const challenge = randomAlnum(24);
    const target = new URL(url);
    target.searchParams.set('challenge', challenge);
    const result = await deliver(target.toString(), { method: 'GET' }, { timeoutMs: 10_000, attempts: 1 });
    this.ctx.deliveries.push({
      ...result,
      service: 'dropbox',
      kind: 'verification',
      at: new Date(this.ctx.clock.now()).toISOString(),
    });
    const attempt = result.attempts[0];
    return { ok: attempt?.status === 200 && attempt.body === challenge, challenge, result };
  }

  private scheduleNotify(accountId: string): void {
    if (!this.settings.autoWebhooks || this.settings.webhookUrl === undefined) return;
    this.pendingNotify.add(accountId);
    if (this.notifyTimer !== undefined) return;
    this.notifyTimer = setTimeout(() => {
      this.notifyTimer = undefined;
      const ids = [...this.pendingNotify];
      this.pendingNotify.clear();
      if (ids.length > 0 && this.settings.webhookUrl !== undefined) runInBackground(this.ctx, this.notify(ids));
    }, this.settings.webhookDebounceMs);
    this.notifyTimer.unref();
  }

  // ---------------------------------------------------------------- storage

  private record(account: DropboxAccount, entry: { pathLower: string; pathDisplay: string; name: string }): void {
    account.seq++;
    account.journal.push({
      seq: account.seq,
      pathLower: entry.pathLower,
      pathDisplay: entry.pathDisplay,
      name: entry.name,
    });
    for (const wake of [...account.waiters]) wake();
    this.scheduleNotify(account.accountId);
  }

  private usedBytes(account: DropboxAccount): number {
    let used = 0;
    for (const e of account.entries.values()) used += e.size ?? 0;
    return used;
  }

  /** Creates missing ancestors; returns the parent's display path (existing folders keep their case) or an error. */
  private ensureFolders(account: DropboxAccount, pathDisplay: string): ErrorBody | string {
    const parts = pathDisplay.split('/').slice(1, -1);
    let display = '';
    for (const part of parts) {
      display += `/${part}`;
      const lower = display.toLowerCase();
      const existing = account.entries.get(lower);
      if (existing?.tag === 'file')
        return writeError(
          'conflict',
          { '.tag': 'conflict', conflict: { '.tag': 'file_ancestor' } },
          'conflict/file_ancestor',
        );
      if (existing === undefined) {
        const folder: DropboxEntry = {
          tag: 'folder',
          id: `id:${randomAlnum(22)}`,
          pathLower: lower,
          pathDisplay: display,
          name: part,
        };
        account.entries.set(lower, folder);
        this.record(account, folder);
      } else {
        display = existing.pathDisplay;
      }
    }
    return display;
  }

  private write(
    account: DropboxAccount,
    o: {
      path: string;
      lower: string;
      bytes: Buffer;
      mode: string;
      updateRev?: string;
      autorename: boolean;
      clientModified?: string;
      strictConflict?: boolean;
    },
  ): DropboxEntry | ErrorBody {
    const hash = dropboxContentHash(o.bytes);
    let lower = o.lower;
    let display = o.path;
    const existing = account.entries.get(lower);
    let replace: DropboxEntry | undefined;
    if (existing !== undefined) {
      if (
        existing.tag === 'file' &&
        existing.contentHash === hash &&
        !(o.strictConflict === true && o.mode === 'update')
      ) {
        return existing;
      }
      const conflict =
        existing.tag === 'folder' || o.mode === 'add' || (o.mode === 'update' && existing.rev !== o.updateRev);
      if (conflict) {
        if (!o.autorename) {
          const kind = existing.tag === 'folder' ? 'folder' : 'file';
          return writeError('conflict', { '.tag': 'conflict', conflict: { '.tag': kind } }, `conflict/${kind}`);
        }
        ({ lower, display } = this.freeName(account, existing.pathDisplay));
      } else {
        replace = existing;
        display = existing.pathDisplay;
      }
    }
    if (this.usedBytes(account) - (replace?.size ?? 0) + o.bytes.length > account.quotaBytes) {
      return writeError('insufficient_space', { '.tag': 'insufficient_space' }, 'insufficient_space');
    }
    const parentDisplay = this.ensureFolders(account, display);
    if (typeof parentDisplay !== 'string') return parentDisplay;
    if (replace === undefined) display = `${parentDisplay}/${display.slice(display.lastIndexOf('/') + 1)}`;
    const now = nowIso(this.ctx.clock.now());
    const entry: DropboxEntry = {
      tag: 'file',
      id: replace?.id ?? `id:${randomAlnum(22)}`,
      pathLower: lower,
      pathDisplay: display,
      name: display.slice(display.lastIndexOf('/') + 1),
      rev: `0${(account.seq + 1).toString(16).padStart(8, '0')}${randomHex(7)}`,
      size: o.bytes.length,
      contentHash: hash,
      bytes: o.bytes,
      clientModified: o.clientModified ?? now,
      serverModified: now,
    };
    account.entries.set(lower, entry);
    account.revisions.set(entry.rev as string, entry);
    this.record(account, entry);
    return entry;
  }

  private freeName(account: DropboxAccount, display: string): { lower: string; display: string } {
    const slash = display.lastIndexOf('/');
    const dir = display.slice(0, slash);
    const name = display.slice(slash + 1);
    const dot = name.lastIndexOf('.');
    const stem = dot > 0 ? name.slice(0, dot) : name;
    const ext = dot > 0 ? name.slice(dot) : '';
    for (let i = 1; ; i++) {
      const candidate = `${dir}/${stem} (${i})${ext}`;
      if (!account.entries.has(candidate.toLowerCase())) return { lower: candidate.toLowerCase(), display: candidate };
    }
  }

  private remove(account: DropboxAccount, lower: string): DropboxEntry | undefined {
    const entry = account.entries.get(lower);
    if (entry === undefined) return undefined;
    const doomed = [...account.entries.values()].filter(
      (e) => e.pathLower === lower || e.pathLower.startsWith(`${lower}/`),
    );
    for (const e of doomed.sort((a, b) => b.pathLower.length - a.pathLower.length)) {
      account.entries.delete(e.pathLower);
      this.record(account, e);
    }
    return entry;
  }

  metadata(e: DropboxEntry): Record<string, unknown> {
    if (e.tag === 'folder') {
      return { '.tag': 'folder', name: e.name, path_lower: e.pathLower, path_display: e.pathDisplay, id: e.id };
    }
    return {
      '.tag': 'file',
      name: e.name,
      path_lower: e.pathLower,
      path_display: e.pathDisplay,
      id: e.id,
      client_modified: e.clientModified,
      server_modified: e.serverModified,
      rev: e.rev,
      size: e.size,
      is_downloadable: true,
      content_hash: e.contentHash,
    };
  }

  // ---------------------------------------------------------------- HTTP

  private gate(mount: MountName): ReturnType<typeof serviceGate> {
    return serviceGate(this.ctx, {
      service: 'dropbox',
      mount,
      accountFor: (req) => {
        const token = bearerToken(req);
        return token === undefined ? undefined : this.tokens.get(token)?.accountId;
      },
      rateLimited: (_req, res, fault) => {
        const retryAfter = fault.retryAfter ?? this.settings.retryAfterSeconds;
        // `body: "too_many_write_operations"` selects the write-contention variant of the same error.
        const reason = fault.body === 'too_many_write_operations' ? 'too_many_write_operations' : 'too_many_requests';
        res.setHeader('Retry-After', String(retryAfter));
        res.status(429).json({
          error_summary: `${reason}/...`,
          error: { reason: { '.tag': reason }, retry_after: retryAfter },
        });
      },
    });
  }

  wwwRouter(): Router {
    const r = Router();
    r.use(this.gate('dropbox-www'));
    r.get('/oauth2/authorize', (req, res) => this.authorizePage(req, res));
    r.post('/oauth2/authorize', (req, res) => this.authorizeSubmit(req, res));
    return r;
  }

  apiRouter(): Router {
    const r = Router();
    r.use(this.gate('dropbox-api'));
    r.get('/oauth2/authorize', (req, res) => this.authorizePage(req, res));
    r.post('/oauth2/authorize', (req, res) => this.authorizeSubmit(req, res));
    r.post('/oauth2/token', (req, res) => this.token(req, res));
    r.post('/2/auth/token/revoke', (req, res) =>
      this.rpc(req, res, [], (account, _args, token) => this.revoke(res, account, token)),
    );
    r.post('/2/users/get_current_account', (req, res) =>
      this.rpc(req, res, ['account_info.read'], (account) => ({
        account_id: account.accountId,
        name: {
          given_name: 'Sandbox',
          surname: 'User',
          familiar_name: 'Sandbox',
          display_name: account.displayName,
          abbreviated_name: 'SU',
        },
        email: account.email,
        email_verified: true,
        disabled: false,
        country: 'US',
        locale: 'en',
        account_type: { '.tag': 'basic' },
        root_info: { '.tag': 'user', root_namespace_id: String(account.uid), home_namespace_id: String(account.uid) },
      })),
    );
    r.post('/2/users/get_space_usage', (req, res) =>
      this.rpc(req, res, ['account_info.read'], (account) => ({
        used: this.usedBytes(account),
        allocation: { '.tag': 'individual', allocated: account.quotaBytes },
      })),
    );
    r.post('/2/files/list_folder', (req, res) =>
      this.rpc(req, res, ['files.metadata.read'], (a, args) => this.listFolder(a, args)),
    );
    r.post('/2/files/list_folder/continue', (req, res) =>
      this.rpc(req, res, ['files.metadata.read'], (a, args) => this.listContinue(a, args)),
    );
    r.post('/2/files/list_folder/get_latest_cursor', (req, res) =>
      this.rpc(req, res, ['files.metadata.read'], (a, args) => {
        const result = this.listFolder(a, args);
        if (result instanceof BadInput || 'summary' in result) return result;
        const cursor = this.decodeCursor(String(result.cursor));
        return cursor === undefined ? result : { cursor: this.encodeCursor({ ...cursor, s: a.seq, k: undefined }) };
      }),
    );
    r.post('/2/files/get_metadata', (req, res) =>
      this.rpc(req, res, ['files.metadata.read'], (a, args) => this.getMetadata(a, args)),
    );
    r.post('/2/files/delete_v2', (req, res) =>
      this.rpc(req, res, ['files.content.write'], (a, args) => {
        const path = typeof args.path === 'string' ? args.path : '';
        const entry = this.resolve(a, path);
        if (entry === undefined) return pathLookupError('not_found', 'path_lookup');
        this.remove(a, entry.pathLower);
        return { metadata: this.metadata(entry) };
      }),
    );
    r.use((req, res) => {
      res
        .status(400)
        .type('text/plain')
        .send(`Unknown API function: "${req.path.replace(/^\/2\//, '')}"`);
    });
    return r;
  }

  contentRouter(): Router {
    const r = Router();
    r.use(this.gate('dropbox-content'));
    r.post('/2/files/download', (req, res) => this.download(req, res));
    r.post('/2/files/upload', (req, res) => this.upload(req, res));
    return r;
  }

  notifyRouter(): Router {
    const r = Router();
    r.use(this.gate('dropbox-notify'));
    r.post('/2/files/list_folder/longpoll', (req, res) => this.longpoll(req, res));
    return r;
  }

  // ---- OAuth

  private authorizePage(req: Request, res: Response): void {
    const clientId = queryString(req, 'client_id') ?? '';
    if (!this.apps.has(clientId)) {
      res.status(400).type('text/plain').send('Invalid client_id');
      return;
    }
    if (queryString(req, 'response_type') !== 'code') {
      res.status(400).type('text/plain').send('Invalid response_type; expected "code"');
      return;
    }
    const q = (name: string): string | undefined => queryString(req, name);
    const auto = q('sandbox_account');
    if (auto !== undefined) {
      const account = this.findAccount(auto);
      if (account === undefined) {
        res.status(404).type('text/plain').send(`sandbox: no Dropbox account ${auto}`);
        return;
      }
      this.finishAuthorize(res, {
        clientId,
        redirectUri: q('redirect_uri'),
        state: q('state'),
        accountId: account.accountId,
        scope: q('scope'),
        offline: q('token_access_type') === 'offline',
        codeChallenge: q('code_challenge'),
        deny: q('sandbox_deny') === '1',
      });
      return;
    }
    const keep = [
      'client_id',
      'redirect_uri',
      'state',
      'scope',
      'token_access_type',
      'code_challenge',
      'code_challenge_method',
    ]
      .map((k) => [k, q(k)] as const)
      .filter((kv): kv is readonly [string, string] => kv[1] !== undefined)
      .map(([k, v]) => `<input type="hidden" name="${k}" value="${escapeHtml(v)}">`)
      .join('');
    res.type('text/html').send(`<!doctype html>
<html><head><title>API Request Authorization - Dropbox (sandbox)</title></head><body>
<h1>Allow app ${escapeHtml(clientId)} to access your Dropbox?</h1>
<form method="post" action="authorize">${keep}
<label>Account <select name="account">${[...this.accounts.values()].map((a) => `<option value="${escapeHtml(a.accountId)}">${escapeHtml(`${a.displayName} <${a.email}>`)}</option>`).join('')}</select></label>
<button type="submit" name="decision" value="allow" id="allow">Allow</button>
<button type="submit" name="decision" value="deny" id="deny">Cancel</button>
</form></body></html>`);
  }

  private authorizeSubmit(req: Request, res: Response): void {
    const f = formBody(req);
    const clientId = f.client_id ?? '';
    const account = this.findAccount(f.account ?? '');
    if (!this.apps.has(clientId) || account === undefined) {
      res.status(400).type('text/plain').send('Invalid authorization request');
      return;
    }
    this.finishAuthorize(res, {
      clientId,
      redirectUri: f.redirect_uri,
      state: f.state,
      accountId: account.accountId,
      scope: f.scope,
      offline: f.token_access_type === 'offline',
      codeChallenge: f.code_challenge,
      deny: f.decision === 'deny',
    });
  }

  private finishAuthorize(
    res: Response,
    o: {
      clientId: string;
      redirectUri?: string;
      state?: string;
      accountId: string;
      scope?: string;
      offline: boolean;
      codeChallenge?: string;
      deny: boolean;
    },
  ): void {
    res.locals.account = o.accountId;
    const code = randomAlnum(43);
    if (!o.deny) {
      const scopes = o.scope === undefined ? DROPBOX_SCOPES : o.scope.split(/\s+/).filter((s) => s !== '');
      this.codes.set(code, {
        accountId: o.accountId,
        clientId: o.clientId,
        redirectUri: o.redirectUri,
        scopes,
        offline: o.offline,
        codeChallenge: o.codeChallenge,
        expiresAt: this.ctx.clock.nowSeconds() + 600,
      });
    }
    if (o.redirectUri === undefined) {
      // No-redirect flow: Dropbox shows the code for the user to paste.
      res
        .type('text/html')
        .send(o.deny ? '<p>Access denied</p>' : `<p>Enter this code into the app: <code id="code">${code}</code></p>`);
      return;
    }
    let target: URL;
    try {
      target = new URL(o.redirectUri);
    } catch {
      res.status(400).type('text/plain').send('Invalid redirect_uri');
      return;
    }
    if (o.deny) {
      target.searchParams.set('error', 'access_denied');
      target.searchParams.set(
        'error_description',
        'The user chose not to give your app access to their Dropbox account.',
      );
    } else {
      target.searchParams.set('code', code);
    }
    if (o.state !== undefined) target.searchParams.set('state', o.state);
    res.redirect(302, target.toString());
  }

  private token(req: Request, res: Response): void {
    const f = formBody(req);
    const basic = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (basic !== undefined) {
      const [id, secret] = Buffer.from(basic, 'base64').toString('utf8').split(':');
      if (f.client_id === undefined && id !== undefined) f.client_id = id;
      if (f.client_secret === undefined && secret !== undefined && secret !== '') f.client_secret = secret;
    }
    const clientId = f.client_id ?? '';
    const secret = this.apps.get(clientId);
    const oauthError = (error: string, description: string): void => {
      res.status(400).json({ error, error_description: description });
    };
    if (secret === undefined || (f.client_secret !== undefined && f.client_secret !== secret)) {
      oauthError('invalid_client', 'Invalid client_id or client_secret');
      return;
    }
    const now = this.ctx.clock.nowSeconds();
    if (f.grant_type === 'authorization_code') {
      const code = this.codes.get(f.code ?? '');
      this.codes.delete(f.code ?? '');
      if (code === undefined || code.expiresAt < now || code.clientId !== clientId) {
        oauthError('invalid_grant', "code doesn't exist or has expired");
        return;
      }
      if (code.redirectUri !== undefined && f.redirect_uri !== code.redirectUri) {
        oauthError('invalid_grant', 'redirect_uri mismatch');
        return;
      }
      if (f.client_secret === undefined) {
        const verifier = f.code_verifier;
        const expected = verifier === undefined ? undefined : createHash('sha256').update(verifier).digest('base64url');
        if (code.codeChallenge === undefined || expected !== code.codeChallenge) {
          oauthError('invalid_grant', 'invalid code verifier');
          return;
        }
      }
      const issued = this.issueToken(code.accountId, code.scopes, code.offline);
      const account = this.accounts.get(code.accountId);
      res.locals.account = code.accountId;
      res.json({
        access_token: issued.accessToken,
        token_type: 'bearer',
        expires_in: this.settings.accessTokenTtlSeconds,
        ...(issued.refreshToken === undefined ? {} : { refresh_token: issued.refreshToken }),
        scope: code.scopes.join(' '),
        uid: String(account?.uid ?? ''),
        account_id: code.accountId,
      });
      return;
    }
    if (f.grant_type === 'refresh_token') {
      const current = this.refreshTokens.get(f.refresh_token ?? '');
      if (current === undefined || current.clientId !== clientId) {
        oauthError('invalid_grant', 'refresh token is invalid or revoked');
        return;
      }
      res.locals.account = current.accountId;
      const scopes =
        f.scope === undefined ? current.scopes : f.scope.split(/\s+/).filter((s) => current.scopes.includes(s));
      const accessToken = `sl.${randomAlnum(120)}`;
      // Dropbox does not rotate refresh tokens: the new access token hangs off the same refresh token.
      this.tokens.set(accessToken, { ...current, scopes, expiresAt: now + this.settings.accessTokenTtlSeconds });
      res.json({
        access_token: accessToken,
        token_type: 'bearer',
        expires_in: this.settings.accessTokenTtlSeconds,
        scope: scopes.join(' '),
      });
      return;
    }
    oauthError('unsupported_grant_type', `grant_type "${f.grant_type ?? ''}" is not supported`);
  }

  private revoke(_res: Response, account: DropboxAccount, token: DropboxToken): null {
    const refresh = token.refreshToken;
    for (const [key, t] of [...this.tokens]) {
      if (t.accountId === account.accountId && (t === token || (refresh !== undefined && t.refreshToken === refresh)))
        this.tokens.delete(key);
    }
    if (refresh !== undefined) this.refreshTokens.delete(refresh);
    return null;
  }

  // ---- RPC plumbing

  private authenticate(
    req: Request,
    res: Response,
    scopes: string[],
  ): { account: DropboxAccount; token: DropboxToken } | undefined {
    const raw = bearerToken(req) ?? queryString(req, 'authorization')?.replace(/^Bearer\s+/i, '');
    const fn = req.path.replace(/^\/2\//, '');
    if (raw === undefined) {
      res
        .status(400)
        .type('text/plain')
        .send(
          `Error in call to API function "${fn}": Must provide HTTP header "Authorization" or URL parameter "authorization".`,
        );
      return undefined;
    }
    const token = this.tokens.get(raw);
    const account = token === undefined ? undefined : this.accounts.get(token.accountId);
    if (token === undefined || account === undefined) {
      res.status(401).json({ error_summary: 'invalid_access_token/...', error: { '.tag': 'invalid_access_token' } });
      return undefined;
    }
    res.locals.account = account.accountId;
    if (token.expiresAt <= this.ctx.clock.nowSeconds()) {
      res.status(401).json({ error_summary: 'expired_access_token/...', error: { '.tag': 'expired_access_token' } });
      return undefined;
    }
    const missing = scopes.find((s) => !token.scopes.includes(s));
    if (missing !== undefined) {
      res
        .status(401)
        .json({ error_summary: `missing_scope/...`, error: { '.tag': 'missing_scope', required_scope: missing } });
      return undefined;
    }
    return { account, token };
  }

  private rpc(
    req: Request,
    res: Response,
    scopes: string[],
    handler: (account: DropboxAccount, args: Record<string, unknown>, token: DropboxToken) => unknown,
  ): void {
    const auth = this.authenticate(req, res, scopes);
    if (auth === undefined) return;
    const fn = req.path.replace(/^\/2\//, '');
    const body = rawBody(req);
    if (body.length > 0 && !this.contentTypeOk(req, res, fn, ['application/json', 'application/json; charset=utf-8']))
      return;
    let args: Record<string, unknown> = {};
    if (body.length > 0 && body.toString('utf8').trim() !== 'null') {
      const parsed = jsonBody(req);
      if (!isRecord(parsed)) {
        res
          .status(400)
          .type('text/plain')
          .send(`Error in call to API function "${fn}": request body: could not decode input as JSON`);
        return;
      }
      args = parsed;
    }
    const result = handler(auth.account, args, auth.token);
    this.sendResult(res, fn, result);
  }

  /** Dropbox rejects a body whose Content-Type does not fit the route style, naming what it expected. */
  private contentTypeOk(req: Request, res: Response, fn: string, allowed: string[]): boolean {
    const type = (req.headers['content-type'] ?? '').toLowerCase().trim();
    const accepted = [...allowed, 'text/plain; charset=dropbox-cors-hack'];
    if (accepted.includes(type)) return true;
    res
      .status(400)
      .type('text/plain')
      .send(
        `Error in call to API function "${fn}": Bad HTTP "Content-Type" header: "${type}".  Expecting one of ${accepted.map((a) => `"${a}"`).join(', ')}.`,
      );
    return false;
  }

  private sendResult(res: Response, fn: string, result: unknown): void {
    if (result instanceof BadInput) {
      res.status(400).type('text/plain').send(`Error in call to API function "${fn}": ${result.message}`);
    } else if (isRecord(result) && typeof result.summary === 'string' && isRecord(result.error)) {
      res.status(409).json({ error_summary: result.summary, error: result.error });
    } else {
      res.json(result);
    }
  }

  // ---- files

  private resolve(account: DropboxAccount, path: string): DropboxEntry | undefined {
    if (path.startsWith('id:')) return [...account.entries.values()].find((e) => e.id === path);
    if (path.startsWith('rev:')) return account.revisions.get(path.slice(4));
    return account.entries.get(path.toLowerCase());
  }

  private listFolder(
    account: DropboxAccount,
    args: Record<string, unknown>,
  ): Record<string, unknown> | ErrorBody | BadInput {
    const path = args.path;
    if (typeof path !== 'string') return new BadInput('request body: missing required field "path"');
    if (path === '/' || (path !== '' && !path.startsWith('/') && !path.startsWith('id:'))) {
      return new BadInput(
        `request body: path: '${path}' did not match pattern '(/(.|[\\r\\n])*)?|id:.*|(ns:[0-9]+(/.*)?)'`,
      );
    }
    const limit = args.limit === undefined ? this.settings.defaultListLimit : Number(args.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 2000)
      return new BadInput('request body: limit: value must be between 1 and 2000');
    let lower = path.toLowerCase();
    if (path.startsWith('id:')) {
      const entry = this.resolve(account, path);
      if (entry === undefined) return pathLookupError('not_found');
      lower = entry.pathLower;
    }
    if (lower !== '') {
      const entry = account.entries.get(lower);
      if (entry === undefined) return pathLookupError('not_found');
      if (entry.tag === 'file') return pathLookupError('not_folder');
    }
    const cursor: Cursor = {
      a: account.accountId,
      p: lower,
      r: args.recursive === true,
      d: args.include_deleted === true,
      l: limit,
      s: account.seq,
      k: '',
      e: account.cursorEpoch,
    };
    return this.page(account, cursor);
  }

  private inScope(c: Cursor, pathLower: string): boolean {
    if (c.p === '') return c.r || parentOf(pathLower) === '';
    if (pathLower === c.p) return c.r;
    if (!pathLower.startsWith(`${c.p}/`)) return false;
    return c.r || parentOf(pathLower) === c.p;
  }

  private page(account: DropboxAccount, c: Cursor): Record<string, unknown> {
    if (c.k !== undefined) {
      const all = [...account.entries.values()]
        .filter((e) => this.inScope(c, e.pathLower) && e.pathLower > (c.k as string))
        .sort((a, b) => (a.pathLower < b.pathLower ? -1 : 1));
      const chunk = all.slice(0, c.l);
      const more = all.length > chunk.length;
      const last = chunk[chunk.length - 1];
      const next: Cursor = more && last !== undefined ? { ...c, k: last.pathLower } : { ...c, k: undefined };
      return { entries: chunk.map((e) => this.metadata(e)), cursor: this.encodeCursor(next), has_more: more };
    }
    // Delta mode: each changed path once, in the order of its latest change.
    const latest = new Map<string, JournalItem>();
    for (const item of account.journal) {
      if (item.seq > c.s && this.inScope(c, item.pathLower)) {
        latest.delete(item.pathLower);
        latest.set(item.pathLower, item);
      }
    }
    const changes = [...latest.values()];
    const chunk = changes.slice(0, c.l);
    const more = changes.length > chunk.length;
    const s = more ? (chunk[chunk.length - 1]?.seq ?? c.s) : account.seq;
    const entries = chunk.map((item) => {
      const current = account.entries.get(item.pathLower);
      return current === undefined
        ? { '.tag': 'deleted', name: item.name, path_lower: item.pathLower, path_display: item.pathDisplay }
        : this.metadata(current);
    });
    return { entries, cursor: this.encodeCursor({ ...c, s }), has_more: more };
  }

  private encodeCursor(c: Cursor): string {
    return `AA${Buffer.from(JSON.stringify(c)).toString('base64url')}`;
  }

  private decodeCursor(raw: string): Cursor | undefined {
    try {
      const parsed = JSON.parse(Buffer.from(raw.slice(2), 'base64url').toString('utf8')) as unknown;
      if (!isRecord(parsed) || typeof parsed.a !== 'string' || typeof parsed.s !== 'number') return undefined;
      return parsed as unknown as Cursor;
    } catch {
      return undefined;
    }
  }

  private listContinue(
    account: DropboxAccount,
    args: Record<string, unknown>,
  ): Record<string, unknown> | ErrorBody | BadInput {
    const cursor = typeof args.cursor === 'string' ? this.decodeCursor(args.cursor) : undefined;
    if (cursor === undefined) return new BadInput('request body: cursor: invalid cursor');
    if (cursor.a !== account.accountId || cursor.e !== account.cursorEpoch) {
      return { summary: 'reset/...', error: { '.tag': 'reset' } };
    }
    return this.page(account, cursor);
  }

  private getMetadata(
    account: DropboxAccount,
    args: Record<string, unknown>,
  ): Record<string, unknown> | ErrorBody | BadInput {
    const path = args.path;
    if (typeof path !== 'string') return new BadInput('request body: missing required field "path"');
    if (path === '' || path === '/') return new BadInput('request body: path: The root folder is unsupported.');
    const entry = this.resolve(account, path);
    if (entry !== undefined) return this.metadata(entry);
    if (args.include_deleted === true) {
      const lower = path.toLowerCase();
      const item = [...account.journal].reverse().find((j) => j.pathLower === lower);
      if (item !== undefined)
        return { '.tag': 'deleted', name: item.name, path_lower: item.pathLower, path_display: item.pathDisplay };
    }
    return pathLookupError('not_found');
  }

  private contentArgs(req: Request, res: Response): Record<string, unknown> | undefined {
    const raw = req.headers['dropbox-api-arg'] ?? queryString(req, 'arg');
    const fn = req.path.replace(/^\/2\//, '');
    const text = Array.isArray(raw) ? raw[0] : raw;
    try {
      const parsed = text === undefined ? undefined : (JSON.parse(text) as unknown);
      if (isRecord(parsed)) return parsed;
    } catch {
      // fall through to the error below
    }
    res
      .status(400)
      .type('text/plain')
      .send(`Error in call to API function "${fn}": Bad HTTP "Dropbox-API-Arg" header: could not decode input as JSON`);
    return undefined;
  }

  private download(req: Request, res: Response): void {
    const auth = this.authenticate(req, res, ['files.content.read']);
    if (auth === undefined) return;
    const args = this.contentArgs(req, res);
    if (args === undefined) return;
    const path = typeof args.path === 'string' ? args.path : '';
    const entry = this.resolve(auth.account, path);
    if (entry === undefined) {
      this.sendResult(res, 'files/download', pathLookupError('not_found'));
      return;
    }
    if (entry.tag === 'folder') {
      this.sendResult(res, 'files/download', pathLookupError('not_file'));
      return;
    }
    res.setHeader('Dropbox-API-Result', asciiJson(this.metadata(entry)));
    res.setHeader('Content-Type', 'application/octet-stream');
    res.status(200).send(entry.bytes);
  }

  private upload(req: Request, res: Response): void {
    const auth = this.authenticate(req, res, ['files.content.write']);
    if (auth === undefined) return;
    if (!this.contentTypeOk(req, res, 'files/upload', ['application/octet-stream'])) return;
    const args = this.contentArgs(req, res);
    if (args === undefined) return;
    const body = rawBody(req);
    const path = typeof args.path === 'string' ? args.path : undefined;
    if (path === undefined || !path.startsWith('/') || path.endsWith('/') || path.includes('//')) {
      const shown = path ?? '';
      if (path !== undefined && path.startsWith('/') && (path.endsWith('/') || path.includes('//'))) {
        this.sendResult(
          res,
          'files/upload',
          writeError('malformed_path', { '.tag': 'malformed_path' }, 'malformed_path'),
        );
      } else {
        res
          .status(400)
          .type('text/plain')
          .send(
            `Error in call to API function "files/upload": HTTP header "Dropbox-API-Arg": path: '${shown}' did not match pattern '(/(.|[\\r\\n])*)|(ns:[0-9]+(/.*)?)|(id:.*)'`,
          );
      }
      return;
    }
    if (body.length > this.settings.maxUploadBytes) {
      res.status(409).json({ error_summary: 'payload_too_large/...', error: { '.tag': 'payload_too_large' } });
      return;
    }
    if (typeof args.content_hash === 'string' && args.content_hash !== dropboxContentHash(body)) {
      res.status(409).json({ error_summary: 'content_hash_mismatch/...', error: { '.tag': 'content_hash_mismatch' } });
      return;
    }
    const mode = args.mode;
    let modeTag = 'add';
    let updateRev: string | undefined;
    if (typeof mode === 'string') modeTag = mode;
    else if (isRecord(mode) && typeof mode['.tag'] === 'string') {
      modeTag = mode['.tag'];
      if (typeof mode.update === 'string') updateRev = mode.update;
    }
    if (!['add', 'overwrite', 'update'].includes(modeTag)) {
      res
        .status(400)
        .type('text/plain')
        .send(
          `Error in call to API function "files/upload": HTTP header "Dropbox-API-Arg": mode: unknown tag '${modeTag}'`,
        );
      return;
    }
    const result = this.write(auth.account, {
      path,
      lower: path.toLowerCase(),
      bytes: body,
      mode: modeTag,
      updateRev,
      autorename: args.autorename === true,
      clientModified: typeof args.client_modified === 'string' ? args.client_modified : undefined,
      strictConflict: args.strict_conflict === true,
    });
    if ('summary' in result) {
      const uploadError = { '.tag': 'path', reason: result.error, upload_session_id: randomHex(16) };
      res.status(409).json({ error_summary: `path/${result.summary}/...`, error: uploadError });
      return;
    }
    res.json(this.metadata(result));
  }

  private longpoll(req: Request, res: Response): void {
    const parsed = jsonBody(req);
    const args = isRecord(parsed) ? parsed : {};
    const timeout = args.timeout === undefined ? 30 : Number(args.timeout);
    const fn = 'files/list_folder/longpoll';
    if (!Number.isInteger(timeout) || timeout < 30 || timeout > 480) {
      res
        .status(400)
        .type('text/plain')
        .send(`Error in call to API function "${fn}": request body: timeout: value must be between 30 and 480`);
      return;
    }
    const cursor = typeof args.cursor === 'string' ? this.decodeCursor(args.cursor) : undefined;
    const account = cursor === undefined ? undefined : this.accounts.get(cursor.a);
    if (cursor === undefined || account === undefined) {
      res
        .status(400)
        .type('text/plain')
        .send(`Error in call to API function "${fn}": request body: cursor: invalid cursor`);
      return;
    }
    res.locals.account = account.accountId;
    if (cursor.e !== account.cursorEpoch) {
      res.status(409).json({ error_summary: 'reset/...', error: { '.tag': 'reset' } });
      return;
    }
    const answer = (changes: boolean): void => {
      const body: Record<string, unknown> = { changes };
      if (this.settings.longpollBackoffSeconds !== undefined) body.backoff = this.settings.longpollBackoffSeconds;
      if (!res.headersSent && !res.destroyed) res.json(body);
    };
    const hasChanges = (): boolean =>
      cursor.k !== undefined || account.journal.some((j) => j.seq > cursor.s && this.inScope(cursor, j.pathLower));
    if (hasChanges()) {
      answer(true);
      return;
    }
    const waitMs =
      (timeout + Math.random() * this.settings.longpollJitterSeconds) * 1000 * this.settings.longpollTimeScale;
    const finish = (): void => {
      clearTimeout(timer);
      account.waiters.delete(wake);
      answer(hasChanges());
    };
    const wake = (): void => finish();
    const timer = setTimeout(finish, waitMs);
    account.waiters.add(wake);
    res.on('close', () => {
      clearTimeout(timer);
      account.waiters.delete(wake);
    });
  }
}

class BadInput {
  constructor(readonly message: string) {}
}

function pathLookupError(tag: string, wrapper = 'path'): ErrorBody {
  return { summary: `${wrapper}/${tag}/...`, error: { '.tag': wrapper, [wrapper]: { '.tag': tag } } };
}

function writeError(_tag: string, reason: Record<string, unknown>, summary: string): ErrorBody {
  return { summary, error: reason };
}

/** HTTP headers must be ASCII; Dropbox escapes non-ASCII characters in Dropbox-API-Result as \uXXXX. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
