import { createHash, createHmac } from 'node:crypto';
import { resolve } from 'node:path';
import { startSandbox, type SandboxHandle } from '../sandbox.app';
import { control, json, startCallbackServer } from '../testing/sandbox-test.util';
import { DropboxSimulator } from './dropbox.simulator';

const FIXTURES = resolve(__dirname, '../../../../../shared/fixtures');

type Json = Record<string, unknown>;

describe(DropboxSimulator.name, () => {
  let sut: SandboxHandle;
  let ctl: ReturnType<typeof control>;

  beforeAll(async () => {
    sut = await startSandbox({
      port: 0,
      fixturesDir: FIXTURES,
      dropbox: { longpollTimeScale: 0.01, webhookRetryDelayMs: 10, webhookDebounceMs: 10 },
    });
    ctl = control(sut.url);
  });

  afterAll(async () => {
    await sut.close();
  });

  beforeEach(async () => {
    await ctl.post('/reset');
    delete sut.dropbox.settings.webhookUrl;
  });

  async function account(quotaBytes?: number): Promise<{ id: string; token: string }> {
    const res = await ctl.post<Json & { token: Json }>('/dropbox/accounts', { quotaBytes, token: true });
    return { id: res.accountId as string, token: res.token.access_token as string };
  }

  const rpc = (token: string, route: string, args: unknown): Promise<Response> =>
    fetch(`${sut.urls.dropboxApi}/2/${route}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(args),
    });

  const upload = (token: string, args: Json, content: string | Buffer): Promise<Response> =>
    fetch(`${sut.urls.dropboxContent}/2/files/upload`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/octet-stream',
        'dropbox-api-arg': JSON.stringify(args),
      },
      body: typeof content === 'string' ? content : new Uint8Array(content),
    });

  describe('OAuth', () => {
    it('should issue short-lived tokens with an offline refresh token that does not rotate', async () => {
      const { id } = await account();
      const q = new URLSearchParams({
        client_id: 'sandbox-dropbox-key',
        response_type: 'code',
        redirect_uri: 'http://hub.test/cb',
        state: 'st',
        token_access_type: 'offline',
        sandbox_account: id,
      });
      const auth = await fetch(`${sut.urls.dropboxWww}/oauth2/authorize?${q.toString()}`, { redirect: 'manual' });
      const location = new URL(auth.headers.get('location') as string);
      expect(location.searchParams.get('state')).toBe('st');
      const form = {
        client_id: 'sandbox-dropbox-key',
        client_secret: 'sandbox-dropbox-secret',
        redirect_uri: 'http://hub.test/cb',
      };
      const tok = await json(
        await fetch(`${sut.urls.dropboxApi}/oauth2/token`, {
          method: 'POST',
          body: new URLSearchParams({
            ...form,
            grant_type: 'authorization_code',
            code: location.searchParams.get('code') as string,
          }),
        }),
      );
      expect(tok).toMatchObject({ token_type: 'bearer', expires_in: 14400, account_id: id });
      expect(tok.access_token).toMatch(/^sl\./);
      expect(typeof tok.refresh_token).toBe('string');

      await ctl.post('/clock', { advanceSeconds: 14401 });
      const expired = await rpc(tok.access_token as string, 'files/list_folder', { path: '' });
      expect(expired.status).toBe(401);
      expect(await json(expired)).toMatchObject({ error: { '.tag': 'expired_access_token' } });

      const refresh = (): Promise<Json> =>
        fetch(`${sut.urls.dropboxApi}/oauth2/token`, {
          method: 'POST',
          body: new URLSearchParams({
            ...form,
            grant_type: 'refresh_token',
            refresh_token: tok.refresh_token as string,
          }),
        }).then((r) => json(r));
      const r1 = await refresh();
      const r2 = await refresh();
      expect(r1).not.toHaveProperty('refresh_token');
      expect(r1.access_token).not.toBe(r2.access_token);
      expect((await rpc(r2.access_token as string, 'files/list_folder', { path: '' })).status).toBe(200);

      const reused = await fetch(`${sut.urls.dropboxApi}/oauth2/token`, {
        method: 'POST',
        body: new URLSearchParams({
          ...form,
          grant_type: 'authorization_code',
          code: location.searchParams.get('code') as string,
        }),
      });
      expect(reused.status).toBe(400);
      expect(await json(reused)).toMatchObject({ error: 'invalid_grant' });
    });

    it('should accept PKCE without a client secret and revoke the refresh token with the access token', async () => {
      const { id } = await account();
      const verifier = 'v'.repeat(50);
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      const q = new URLSearchParams({
        client_id: 'sandbox-dropbox-key',
        response_type: 'code',
        token_access_type: 'offline',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        sandbox_account: id,
      });
      const page = await fetch(`${sut.urls.dropboxApi}/oauth2/authorize?${q.toString()}`);
      const code = /<code id="code">([^<]+)<\/code>/.exec(await page.text())?.[1] as string;
      const tok = await json(
        await fetch(`${sut.urls.dropboxApi}/oauth2/token`, {
          method: 'POST',
          body: new URLSearchParams({
            client_id: 'sandbox-dropbox-key',
            grant_type: 'authorization_code',
            code,
            code_verifier: verifier,
          }),
        }),
      );
      expect(typeof tok.access_token).toBe('string');
      const revoked = await fetch(`${sut.urls.dropboxApi}/2/auth/token/revoke`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tok.access_token as string}` },
      });
      expect(revoked.status).toBe(200);
      const after = await fetch(`${sut.urls.dropboxApi}/oauth2/token`, {
        method: 'POST',
        body: new URLSearchParams({
          client_id: 'sandbox-dropbox-key',
          client_secret: 'sandbox-dropbox-secret',
          grant_type: 'refresh_token',
          refresh_token: tok.refresh_token as string,
        }),
      });
      expect(after.status).toBe(400);
    });
  });

  describe('files', () => {
    it('should page list_folder with cursors and then return only later changes', async () => {
      const { token } = await account();
      for (let i = 0; i < 5; i++) await upload(token, { path: `/Runs/run-${i}.gpx` }, `content ${i}`);
      const seen: Json[] = [];
      let page = await json(await rpc(token, 'files/list_folder', { path: '', recursive: true, limit: 2 }));
      seen.push(...(page.entries as Json[]));
      let pages = 1;
      while (page.has_more === true) {
        page = await json(await rpc(token, 'files/list_folder/continue', { cursor: page.cursor }));
        seen.push(...(page.entries as Json[]));
        pages++;
      }
      expect(pages).toBe(3);
      expect(seen.map((e) => e.path_display)).toEqual([
        '/Runs',
        '/Runs/run-0.gpx',
        '/Runs/run-1.gpx',
        '/Runs/run-2.gpx',
        '/Runs/run-3.gpx',
        '/Runs/run-4.gpx',
      ]);
      expect(seen[1]).toMatchObject({
        '.tag': 'file',
        name: 'run-0.gpx',
        path_lower: '/runs/run-0.gpx',
        size: 9,
        is_downloadable: true,
      });
      expect(seen[1]?.id).toMatch(/^id:/);
      expect(seen[1]?.server_modified).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

      const idle = await json(await rpc(token, 'files/list_folder/continue', { cursor: page.cursor }));
      expect(idle).toMatchObject({ entries: [], has_more: false });

      await upload(token, { path: '/Runs/run-5.gpx' }, 'new');
      await rpc(token, 'files/delete_v2', { path: '/runs/RUN-0.gpx' });
      const delta = await json(await rpc(token, 'files/list_folder/continue', { cursor: idle.cursor }));
      expect(delta.entries).toEqual([
        expect.objectContaining({ '.tag': 'file', path_display: '/Runs/run-5.gpx' }),
        { '.tag': 'deleted', name: 'run-0.gpx', path_lower: '/runs/run-0.gpx', path_display: '/Runs/run-0.gpx' },
      ]);
    });

    it('should list non-recursively and answer path errors like Dropbox', async () => {
      const { id, token } = await account();
      await upload(token, { path: '/a/b/deep.tcx' }, 'x');
      await upload(token, { path: '/top.tcx' }, 'y');
      const root = await json(await rpc(token, 'files/list_folder', { path: '' }));
      expect((root.entries as Json[]).map((e) => e.path_lower).sort()).toEqual(['/a', '/top.tcx']);
      const missing = await rpc(token, 'files/list_folder', { path: '/nope' });
      expect(missing.status).toBe(409);
      expect(await json(missing)).toEqual({
        error_summary: 'path/not_found/...',
        error: { '.tag': 'path', path: { '.tag': 'not_found' } },
      });
      const slash = await rpc(token, 'files/list_folder', { path: '/' });
      expect(slash.status).toBe(400);
      expect(await slash.text()).toContain('did not match pattern');

      await ctl.post('/dropbox/reset-cursors', { account: id });
      const stale = await rpc(token, 'files/list_folder/continue', { cursor: root.cursor });
      expect(stale.status).toBe(409);
      expect(await json(stale)).toMatchObject({ error: { '.tag': 'reset' } });
    });

    it('should download with Dropbox-API-Arg and return metadata in Dropbox-API-Result', async () => {
      const { token } = await account();
      const meta = await json(
        await upload(
          token,
          { path: '/Activities/Ünïcode Run.TCX', client_modified: '2024-01-02T03:04:05Z' },
          'hello world',
        ),
      );
      const res = await fetch(`${sut.urls.dropboxContent}/2/files/download`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'dropbox-api-arg': JSON.stringify({ path: '/activities/ünïcode run.tcx' }),
        },
      });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('hello world');
      const result = JSON.parse(res.headers.get('dropbox-api-result') as string) as Json;
      expect(result).toMatchObject({
        name: 'Ünïcode Run.TCX',
        path_display: '/Activities/Ünïcode Run.TCX',
        rev: meta.rev,
        client_modified: '2024-01-02T03:04:05Z',
        content_hash: meta.content_hash,
      });
      const byId = await fetch(`${sut.urls.dropboxContent}/2/files/download`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'dropbox-api-arg': JSON.stringify({ path: meta.id }) },
      });
      expect(await byId.text()).toBe('hello world');
      const missing = await fetch(`${sut.urls.dropboxContent}/2/files/download`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'dropbox-api-arg': JSON.stringify({ path: '/nope.fit' }) },
      });
      expect(missing.status).toBe(409);
      expect(await json(missing)).toMatchObject({ error_summary: 'path/not_found/...' });
      const metadata = await json(await rpc(token, 'files/get_metadata', { path: '/ACTIVITIES/ünïcode run.tcx' }));
      expect(metadata.path_display).toBe('/Activities/Ünïcode Run.TCX');
      // Existing folders keep the case they were created with.
      const nested = await json(await upload(token, { path: '/activities/New/ride.fit' }, 'r'));
      expect(nested.path_display).toBe('/Activities/New/ride.fit');
    });

    it('should apply add/overwrite/update modes, autorename, identical-content no-ops and quota', async () => {
      const { token } = await account(30);
      const first = await json(await upload(token, { path: '/x.gpx' }, 'one'));
      const same = await json(await upload(token, { path: '/X.gpx' }, 'one'));
      expect(same.rev).toBe(first.rev);

      const conflict = await upload(token, { path: '/x.gpx', mode: 'add' }, 'two');
      expect(conflict.status).toBe(409);
      const body = await json(conflict);
      expect(body.error_summary).toBe('path/conflict/file/...');
      expect(body.error).toMatchObject({
        '.tag': 'path',
        reason: { '.tag': 'conflict', conflict: { '.tag': 'file' } },
      });

      const renamed = await json(await upload(token, { path: '/x.gpx', mode: 'add', autorename: true }, 'two'));
      expect(renamed.path_display).toBe('/x (1).gpx');

      const over = await json(await upload(token, { path: '/x.gpx', mode: { '.tag': 'overwrite' } }, 'three'));
      expect(over.rev).not.toBe(first.rev);
      expect(over.id).toBe(first.id);

      const staleRev = await upload(token, { path: '/x.gpx', mode: { '.tag': 'update', update: first.rev } }, 'four');
      expect(staleRev.status).toBe(409);
      const okRev = await upload(token, { path: '/x.gpx', mode: { '.tag': 'update', update: over.rev } }, 'four');
      expect(okRev.status).toBe(200);

      const full = await upload(token, { path: '/big.fit' }, 'x'.repeat(40));
      expect(full.status).toBe(409);
      expect(await json(full)).toMatchObject({
        error_summary: 'path/insufficient_space/...',
        error: { reason: { '.tag': 'insufficient_space' } },
      });

      const ancestor = await upload(token, { path: '/x.gpx/child.gpx' }, 'c');
      expect(await json(ancestor)).toMatchObject({ error: { reason: { conflict: { '.tag': 'file_ancestor' } } } });
    });

    it('should wake a longpoll when a file changes and time out without changes', async () => {
      const { token } = await account();
      const cursor = (
        await json(await rpc(token, 'files/list_folder/get_latest_cursor', { path: '', recursive: true }))
      ).cursor as string;
      const longpoll = (): Promise<Response> =>
        fetch(`${sut.urls.dropboxNotify}/2/files/list_folder/longpoll`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ cursor, timeout: 30 }),
        });

      const idle = await longpoll();
      expect(await json(idle)).toEqual({ changes: false });

      const waiting = longpoll();
      await new Promise((r) => setTimeout(r, 50));
      await upload(token, { path: '/new.fit' }, 'data');
      expect(await json(await waiting)).toEqual({ changes: true });

      const bad = await fetch(`${sut.urls.dropboxNotify}/2/files/list_folder/longpoll`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ cursor, timeout: 5 }),
      });
      expect(bad.status).toBe(400);
    });

    it('should reject bodies with the wrong Content-Type', async () => {
      const { token } = await account();
      const form = await fetch(`${sut.urls.dropboxApi}/2/files/list_folder`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'path=',
      });
      expect(form.status).toBe(400);
      expect(await form.text()).toContain('Bad HTTP "Content-Type" header');
      const up = await fetch(`${sut.urls.dropboxContent}/2/files/upload`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'dropbox-api-arg': JSON.stringify({ path: '/a.fit' }),
        },
        body: '{}',
      });
      expect(up.status).toBe(400);
    });

    it('should require the right scope', async () => {
      const { id } = await account();
      const t = await ctl.post<Json>('/dropbox/tokens', { account: id, scope: 'files.metadata.read' });
      const res = await upload(t.access_token as string, { path: '/a.fit' }, 'x');
      expect(res.status).toBe(401);
      expect(await json(res)).toMatchObject({
        error: { '.tag': 'missing_scope', required_scope: 'files.content.write' },
      });
    });
  });

  describe('rate limiting and webhooks', () => {
    it('should answer too_many_requests with retry_after and a Retry-After header', async () => {
      const { token } = await account();
      await ctl.post('/faults', { service: 'dropbox', kind: 'rate-limit', retryAfter: 7, times: 1 });
      const res = await rpc(token, 'files/list_folder', { path: '' });
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('7');
      expect(await json(res)).toEqual({
        error_summary: 'too_many_requests/...',
        error: { reason: { '.tag': 'too_many_requests' }, retry_after: 7 },
      });
      expect((await rpc(token, 'files/list_folder', { path: '' })).status).toBe(200);
    });

    it('should verify the webhook URL and sign notifications with the app secret', async () => {
      const hook = await startCallbackServer((req, res) => {
        const challenge = new URL(req.url, 'http://x').searchParams.get('challenge');
        if (req.method === 'GET') res.writeHead(200, { 'content-type': 'text/plain' }).end(challenge ?? '');
        else res.writeHead(200).end();
      });
      try {
        const set = await ctl.call('PUT', '/dropbox/webhook', { url: hook.url });
        expect(await json(set)).toEqual({ url: hook.url, verified: true });
        const { id, token } = await account();
        await upload(token, { path: '/ride.fit' }, 'bytes');
        const note = await hook.waitFor((r) => r.method === 'POST');
        const expected = createHmac('sha256', 'sandbox-dropbox-secret').update(note.body).digest('hex');
        expect(note.headers['x-dropbox-signature']).toBe(expected);
        expect(JSON.parse(note.body)).toMatchObject({
          list_folder: { accounts: [id] },
          delta: { users: [expect.any(Number) as unknown] },
        });
      } finally {
        await hook.close();
      }
    });

    it('should refuse a webhook URL that does not echo the challenge', async () => {
      const hook = await startCallbackServer((_req, res) => {
        res.writeHead(200).end('wrong');
      });
      try {
        expect((await ctl.call('PUT', '/dropbox/webhook', { url: hook.url })).status).toBe(400);
      } finally {
        await hook.close();
      }
    });
  });
});
