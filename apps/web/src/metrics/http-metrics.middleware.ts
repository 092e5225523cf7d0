import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { type WebMetrics } from './web-metrics.factory';
import { WEB_METRICS } from './metrics.tokens';

/** Label for requests no route matched (scanners, typos): one series, not one per URL. */
export const UNMATCHED_ROUTE = 'unmatched';
const CATCH_ALL_ROUTES: ReadonlySet<string> = new Set(['/{*path}', '*', '/*']);

/** The route pattern that served the request (`/api/activities/:id`), known once routing is done. */
export function routeLabel(req: Request): string {
  const route: unknown = req.route;
  if (typeof route !== 'object' || route === null || !('path' in route)) return UNMATCHED_ROUTE;
  const path = route.path;
  if (typeof path !== 'string') return UNMATCHED_ROUTE;
  const label = `${req.baseUrl}${path}`;
  // Nest's catch-all that answers 404 for unknown paths.
  return CATCH_ALL_ROUTES.has(label) ? UNMATCHED_ROUTE : label;
}

/** Counts and times every request by method, route pattern and status once its response is finished. */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(@Inject(WEB_METRICS) private readonly metrics: WebMetrics) {}

  use(req: Request, res: Response, next: NextFunction): void {
    const started = performance.now();
    res.once('finish', () => {
      this.metrics.http.observe({
        method: req.method,
        route: routeLabel(req),
        status: res.statusCode,
        durationMs: performance.now() - started,
      });
    });
    next();
  }
}
