import { Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res, type RawBodyRequest } from '@nestjs/common';
import type { Request, Response } from 'express';
import { NotFoundError, type Logger } from '@tributary/common';
import { WebhookRejectedError, type ConnectorRegistry, type ServiceConnector } from '@tributary/connectors';
import { type IngestSummary, WebhookIngestService } from './webhook-ingest.service';
import { WebhookForbiddenError, WebhookRateLimitedError } from './webhook.error';
import { type SourceRateLimiter } from './source-rate-limiter.util';
import { WEBHOOK_CONNECTORS, WEBHOOK_SETTINGS } from './webhooks.tokens';

/** Services whose webhooks this app accepts (each connector implements verifySubscription and parseWebhook). */
export const WEBHOOK_SERVICES: ReadonlySet<string> = new Set(['strava', 'dropbox']);

export interface WebhookSettings {
  /** Strava push subscription id; when set, events of any other subscription are refused. */
  stravaSubscriptionId?: string;
  limiter: SourceRateLimiter;
  logger: Logger;
}

function stringQuery(query: Record<string, unknown>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(query)) if (typeof value === 'string') out[key] = value;
  return out;
}

/**
 * Provider webhooks: the subscription handshake (GET) and event delivery (POST) per service. Every request is
 * authenticated before anything is touched: Dropbox by the HMAC signature of the raw body, Strava (which signs
 * nothing) by the subscription id, and both are rate-limited per source address. Providers only need a fast 200;
 * the work happens in queued jobs.
 */
@Controller('webhooks')
export class WebhooksController {
  constructor(
    @Inject(WEBHOOK_CONNECTORS) private readonly connectors: ConnectorRegistry,
    @Inject(WEBHOOK_SETTINGS) private readonly settings: WebhookSettings,
    private readonly ingest: WebhookIngestService,
  ) {}

  @Get(':service')
  handshake(
    @Param('service') service: string,
    @Query() query: Record<string, unknown>,
    @Req() req: Request,
    @Res() res: Response,
  ): void {
    const connector = this.connectorFor(service);
    this.throttle(service, req, res);
    try {
      const answer = connector.verifySubscription?.(stringQuery(query));
      if (answer === undefined) throw new NotFoundError('webhook', service);
      res
        .status(answer.status)
        .type(answer.contentType)
        .set(answer.headers ?? {})
        .send(answer.body);
    } catch (err) {
      throw this.refusal(service, err);
    }
  }

  @Post(':service')
  @HttpCode(200)
  async event(
    @Param('service') service: string,
    @Req() req: RawBodyRequest<Request>,
    @Res({ passthrough: true }) res: Response,
  ): Promise<IngestSummary> {
    const connector = this.connectorFor(service);
    this.throttle(service, req, res);
    if (service === 'strava') this.checkStravaSubscription(req.body);
    let events;
    try {
      if (connector.parseWebhook === undefined) throw new NotFoundError('webhook', service);
      events = connector.parseWebhook(req.headers, req.rawBody ?? Buffer.alloc(0));
    } catch (err) {
      throw this.refusal(service, err);
    }
    const summary = await this.ingest.ingest(service, events);
    this.settings.logger.info({ service, events: events.length, ...summary }, 'webhook received');
    return summary;
  }

  private connectorFor(service: string): ServiceConnector {
    if (!WEBHOOK_SERVICES.has(service) || !this.connectors.has(service)) throw new NotFoundError('webhook', service);
    return this.connectors.get(service);
  }

  private throttle(service: string, req: Request, res: Response): void {
    const verdict = this.settings.limiter.take(`${service}|${req.ip ?? 'unknown'}`, Date.now());
    if (verdict.allowed) return;
    const seconds = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000));
    res.setHeader('Retry-After', String(seconds));
    throw new WebhookRateLimitedError(seconds, service);
  }

  private checkStravaSubscription(body: unknown): void {
    const expected = this.settings.stravaSubscriptionId;
    if (expected === undefined) return;
    const given =
      typeof body === 'object' && body !== null ? (body as { subscription_id?: unknown }).subscription_id : undefined;
    if ((typeof given === 'number' || typeof given === 'string') && String(given) === expected) return;
    throw new WebhookForbiddenError('strava', 'unknown subscription');
  }

  private refusal(service: string, err: unknown): unknown {
    if (err instanceof WebhookRejectedError) {
      this.settings.logger.warn({ service, reason: err.message }, 'webhook refused');
      return new WebhookForbiddenError(service, err.message);
    }
    return err;
  }
}
