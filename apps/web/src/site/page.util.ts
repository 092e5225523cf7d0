import type { Request, Response } from 'express';
import { sessionUserId } from '../auth/site-request.types';

/**
 * Headers for every HTML page: no caching of personal pages, no framing, only our own styles and scripts (every
 * asset is served by the hub itself, so the site works offline and no third party sees who uses it).
 */
export function pageHeaders(res: Response): void {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader(
    'Content-Security-Policy',
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'; " +
      "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  );
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  // The OAuth callback URL carries the code; never send it on as a referrer.
  res.setHeader('Referrer-Policy', 'same-origin');
}

export function sendPage(res: Response, status: number, body: string): void {
  pageHeaders(res);
  res.status(status).type('html').send(body);
}

/** A string field of an urlencoded form body; '' when absent or not a string. */
export function formField(body: unknown, name: string): string {
  if (typeof body !== 'object' || body === null) return '';
  const value = (body as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : '';
}

/**
 * The signed-in user and their session's CSRF token, or undefined after redirecting the visitor to the start page.
 * Every signed-in page starts with this so no page forgets the check.
 */
export function requirePageUser(
  req: Request,
  res: Response,
): { userId: string; csrfToken: string; isAdmin: boolean } | undefined {
  const userId = sessionUserId(req);
  if (userId === undefined || req.siteSession === undefined) {
    res.redirect(303, '/');
    return undefined;
  }
  return { userId, csrfToken: req.siteSession.csrfSecret, isAdmin: req.siteSession.userRole === 'admin' };
}
