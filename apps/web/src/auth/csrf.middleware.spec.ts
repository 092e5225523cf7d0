import type { NextFunction, Request, Response } from 'express';
import { type SessionView } from '@tributary/db';
import { CsrfMiddleware } from './csrf.middleware';
import { readCookie } from './site-session.service';

const SECRET = 's'.repeat(43);

function session(): SessionView {
  const now = new Date();
  return { id: 'a'.repeat(64), userId: null, csrfSecret: SECRET, createdAt: now, lastSeenAt: now, expiresAt: now };
}

function fakeRequest(over: Partial<Request> & { path?: string }): Request {
  return {
    method: 'POST',
    originalUrl: over.path ?? '/signout',
    url: over.path ?? '/signout',
    headers: {},
    body: {},
    accepts: () => 'json',
    ...over,
  } as unknown as Request;
}

function fakeResponse(): Response & { sent?: unknown; code?: number } {
  const res = {
    status(code: number) {
      res.code = code;
      return res;
    },
    json(body: unknown) {
      res.sent = body;
      return res;
    },
    type() {
      return res;
    },
    send(body: unknown) {
      res.sent = body;
      return res;
    },
  } as unknown as Response & { sent?: unknown; code?: number };
  return res;
}

describe(CsrfMiddleware.name, () => {
  const sut = new CsrfMiddleware();

  function run(req: Request): { passed: boolean; res: ReturnType<typeof fakeResponse> } {
    const res = fakeResponse();
    let passed = false;
    const next: NextFunction = () => {
      passed = true;
    };
    sut.use(req, res, next);
    return { passed, res };
  }

  it('should let safe methods, webhooks and health checks through without a token', () => {
    expect(run(fakeRequest({ method: 'GET' })).passed).toBe(true);
    expect(run(fakeRequest({ path: '/webhooks/strava' })).passed).toBe(true);
    expect(run(fakeRequest({ path: '/health/ready' })).passed).toBe(true);
  });

  it('should accept the session token from the form field or the header', () => {
    expect(run(fakeRequest({ siteSession: session(), body: { _csrf: SECRET } })).passed).toBe(true);
    expect(run(fakeRequest({ siteSession: session(), headers: { 'x-csrf-token': SECRET } })).passed).toBe(true);
  });

  it('should refuse with 403 a missing or wrong token, or no session at all', () => {
    for (const req of [
      fakeRequest({ siteSession: session() }),
      fakeRequest({ siteSession: session(), body: { _csrf: 'wrong' } }),
      fakeRequest({ siteSession: session(), method: 'DELETE', headers: { 'x-csrf-token': `${SECRET}x` } }),
      fakeRequest({ body: { _csrf: SECRET } }),
      fakeRequest({ path: '/webhooksX', siteSession: session() }),
    ]) {
      const { passed, res } = run(req);
      expect(passed).toBe(false);
      expect(res.code).toBe(403);
      expect(res.sent).toMatchObject({ error: 'csrf' });
    }
  });
});

describe('readCookie', () => {
  it('should find one cookie among several and ignore look-alikes', () => {
    const req = { headers: { cookie: 'a=1; tributary_session_x=no; tributary_session=tok; b=2' } } as Request;
    expect(readCookie(req, 'tributary_session')).toBe('tok');
    expect(readCookie({ headers: {} } as Request, 'tributary_session')).toBeUndefined();
  });
});
