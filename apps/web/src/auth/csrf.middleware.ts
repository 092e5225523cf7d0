import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { secretsEqual } from '@tributary/db';
import { isSessionless, requestPath } from './session.middleware';
import { renderErrorPage } from '../site/site.views';
import './site-request.types';

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);
export const CSRF_FIELD = '_csrf';
export const CSRF_HEADER = 'x-csrf-token';

/** The token a state-changing request carries: the hidden form field, else the X-CSRF-Token header. */
function presentedToken(req: Request): string | undefined {
  const body: unknown = req.body;
  if (typeof body === 'object' && body !== null && CSRF_FIELD in body) {
    const field = (body as Record<string, unknown>)[CSRF_FIELD];
    if (typeof field === 'string') return field;
  }
  const header = req.headers[CSRF_HEADER];
  return typeof header === 'string' ? header : undefined;
}

/**
 * Synchronizer-token CSRF check for every POST/PUT/PATCH/DELETE except webhooks and probes: the request must carry
 * the CSRF secret of the session its cookie names. Without a session there is nothing to protect, but also nothing
 * to allow: refused as well, so an endpoint cannot forget to require a session.
 */
@Injectable()
export class CsrfMiddleware implements NestMiddleware {
  use(req: Request, res: Response, next: NextFunction): void {
    if (SAFE_METHODS.has(req.method) || isSessionless(requestPath(req))) return next();
    const expected = req.siteSession?.csrfSecret;
    const token = presentedToken(req);
    if (expected !== undefined && token !== undefined && secretsEqual(token, expected)) return next();
    const message = 'This form has expired or did not come from this site. Go back, reload the page and try again.';
    res.status(403);
    if (req.accepts(['html', 'json']) === 'html') {
      res.type('html').send(renderErrorPage({ title: 'Request refused', message, status: 403 }));
    } else {
      res.json({ statusCode: 403, error: 'csrf', message });
    }
  }
}
