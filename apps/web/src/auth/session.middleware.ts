import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { SiteSessionService } from './site-session.service';

/** Paths that never carry a browser session: provider callbacks and probes skip the database lookup. */
export function isSessionless(path: string): boolean {
  return path === '/health' || path.startsWith('/health/') || path.startsWith('/webhooks/') || path === '/webhooks';
}

export function requestPath(req: Request): string {
  const url = req.originalUrl || req.url;
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

@Injectable()
export class SessionMiddleware implements NestMiddleware {
  constructor(private readonly sessions: SiteSessionService) {}

  use(req: Request, _res: Response, next: NextFunction): void {
    if (isSessionless(requestPath(req))) return next();
    this.sessions.load(req).then(() => next(), next);
  }
}
