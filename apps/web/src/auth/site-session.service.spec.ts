import type { Request, Response } from 'express';
import { createLogger } from '@tributary/common';
import { loadConfig } from '@tributary/config';
import { type IssuedSession, type SessionRepository } from '@tributary/db';
import { SESSION_COOKIE, SIGNED_IN_TTL_MS, SiteSessionService } from './site-session.service';

function issued(userId: string | null, token: string): IssuedSession {
  const now = new Date();
  return {
    token,
    session: {
      id: `${token}-hash`,
      userId,
      csrfSecret: `${token}-csrf`,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: now,
    },
  };
}

function fakes(publicUrl: string) {
  const calls: { rotate: unknown[][]; deleted: string[] } = { rotate: [], deleted: [] };
  const repo = {
    create: (userId: string | null) => Promise.resolve(issued(userId, 'anon')),
    rotate: (...args: unknown[]) => {
      calls.rotate.push(args);
      return Promise.resolve(issued(args[1] as string, 'fresh'));
    },
    delete: (id: string) => {
      calls.deleted.push(id);
      return Promise.resolve(true);
    },
    deleteExpired: () => Promise.resolve(0),
  } as unknown as SessionRepository;
  const cookies: { name: string; value: string; options: Record<string, unknown> }[] = [];
  const cleared: string[] = [];
  const res = {
    cookie: (name: string, value: string, options: Record<string, unknown>) => cookies.push({ name, value, options }),
    clearCookie: (name: string) => cleared.push(name),
  } as unknown as Response;
  const sut = new SiteSessionService(
    repo,
    loadConfig({ TRIBUTARY_PUBLIC_URL: publicUrl }),
    createLogger({ level: 'silent' }),
  );
  return { sut, res, cookies, cleared, calls };
}

describe(SiteSessionService.name, () => {
  it('should set an httpOnly, SameSite=Lax, Secure cookie when the public URL is https, and rotate on sign-in', async () => {
    const { sut, res, cookies, calls } = fakes('https://tributary.example');
    const req = { headers: {} } as Request;
    await sut.ensure(req, res);
    expect(req.siteSession?.userId).toBeNull();
    await sut.signIn(req, res, 'user-1');
    expect(calls.rotate).toEqual([['anon-hash', 'user-1', SIGNED_IN_TTL_MS]]);
    expect(cookies.map((c) => [c.name, c.value])).toEqual([
      [SESSION_COOKIE, 'anon'],
      [SESSION_COOKIE, 'fresh'],
    ]);
    for (const c of cookies) expect(c.options).toMatchObject({ httpOnly: true, sameSite: 'lax', secure: true });
    expect(req.user).toEqual({ id: 'user-1' });
  });

  it('should not mark the cookie Secure over plain http, and should delete the row on sign-out', async () => {
    const { sut, res, cookies, cleared, calls } = fakes('http://localhost:3000');
    const req = { headers: {} } as Request;
    await sut.signIn(req, res, 'user-2');
    expect(cookies[0]?.options).toMatchObject({ secure: false });
    await sut.signOut(req, res);
    expect(calls.deleted).toEqual(['fresh-hash']);
    expect(cleared).toEqual([SESSION_COOKIE]);
    expect(req.user).toBeUndefined();
  });
});
