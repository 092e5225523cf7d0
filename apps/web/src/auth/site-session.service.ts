import { Inject, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { describeError, type Logger } from '@tributary/common';
import { type AppConfig } from '@tributary/config';
import { SessionRepository, type SessionView } from '@tributary/db';
import { APP_CONFIG, ROOT_LOGGER } from '../web.tokens';
import './site-request.types';

export const SESSION_COOKIE = 'tributary_session';
/** Signed in: sliding 30 days, like "remember me" everywhere; there is no password to type again. */
export const SIGNED_IN_TTL_MS = 30 * 24 * 3_600_000;
/** A visitor's session exists only to carry the OAuth state and CSRF secret through one connect flow. */
export const ANONYMOUS_TTL_MS = 3_600_000;
/** Writing last_seen on every request would make every page view a write; once in a while is enough. */
const TOUCH_AFTER_MS = 5 * 60_000;
/** Expired rows are harmless (lookups filter them) but pile up; each web process sweeps them now and then. */
const PURGE_EVERY_MS = 60 * 60_000;

/** Reads the session cookie from the raw header (no cookie-parser needed for one cookie). */
export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Loads, creates, rotates and ends website sessions and keeps the cookie in step. */
@Injectable()
export class SiteSessionService {
  private readonly secure: boolean;
  private lastPurgeAt = 0;

  constructor(
    private readonly sessions: SessionRepository,
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {
    this.secure = new URL(config.web.publicUrl).protocol === 'https:';
  }

  /** Attaches the browser's live session (and `req.user` when signed in) to the request. */
  async load(req: Request): Promise<void> {
    const token = readCookie(req, SESSION_COOKIE);
    if (token === undefined) return;
    const session = await this.sessions.findByToken(token);
    if (session === undefined) return;
    this.attach(req, session);
    if (Date.now() - session.lastSeenAt.getTime() > TOUCH_AFTER_MS) {
      await this.sessions.touch(session.id, session.userId === null ? ANONYMOUS_TTL_MS : SIGNED_IN_TTL_MS);
    }
  }

  /** The request's session, creating an anonymous one (and its cookie) when there is none. */
  async ensure(req: Request, res: Response): Promise<SessionView> {
    if (req.siteSession !== undefined) return req.siteSession;
    this.purgeExpiredNowAndThen();
    const issued = await this.sessions.create(null, ANONYMOUS_TTL_MS);
    this.setCookie(res, issued.token, ANONYMOUS_TTL_MS);
    this.attach(req, issued.session);
    return issued.session;
  }

  /** Sign-in always issues a new token and CSRF secret (session fixation). */
  async signIn(req: Request, res: Response, userId: string): Promise<SessionView> {
    const issued = await this.sessions.rotate(req.siteSession?.id ?? null, userId, SIGNED_IN_TTL_MS);
    this.setCookie(res, issued.token, SIGNED_IN_TTL_MS);
    this.attach(req, issued.session);
    return issued.session;
  }

  async signOut(req: Request, res: Response): Promise<void> {
    if (req.siteSession !== undefined) await this.sessions.delete(req.siteSession.id);
    req.siteSession = undefined;
    req.user = undefined;
    this.clearCookie(res);
  }

  /** After the user was deleted (last service disconnected) the row is gone by cascade; forget the cookie too. */
  clearCookie(res: Response): void {
    res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'lax', secure: this.secure, path: '/' });
  }

  private setCookie(res: Response, token: string, ttlMs: number): void {
    res.cookie(SESSION_COOKIE, token, {
      httpOnly: true,
      // Lax: the cookie still comes along on the top-level GET back from the provider's consent page.
      sameSite: 'lax',
      secure: this.secure,
      path: '/',
      maxAge: ttlMs,
    });
  }

  private purgeExpiredNowAndThen(): void {
    const now = Date.now();
    if (now - this.lastPurgeAt < PURGE_EVERY_MS) return;
    this.lastPurgeAt = now;
    this.sessions.deleteExpired().then(
      (n) => (n > 0 ? this.logger.info({ deleted: n }, 'purged expired sessions') : undefined),
      (err: unknown) => this.logger.warn({ err: describeError(err) }, 'purging expired sessions failed'),
    );
  }

  private attach(req: Request, session: SessionView): void {
    req.siteSession = session;
    req.user = session.userId === null ? undefined : { id: session.userId };
  }
}
