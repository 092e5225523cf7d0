import { Controller, Get, Headers, HttpStatus, Inject, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { metricsScrapeAllowed } from '@tributary/common';
import { METRICS_TOKEN, WEB_METRICS } from './metrics.tokens';
import { type WebMetrics } from './web-metrics.factory';

/** Prometheus scrape endpoint (text format, not JSON: outside the OpenAPI document). */
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(
    @Inject(WEB_METRICS) private readonly metrics: WebMetrics,
    @Inject(METRICS_TOKEN) private readonly token: string | null,
  ) {}

  @Get()
  async scrape(@Headers('authorization') authorization: string | undefined, @Res() res: Response): Promise<void> {
    res.setHeader('Cache-Control', 'no-store');
    if (!metricsScrapeAllowed(authorization, this.token ?? undefined)) {
      res.status(HttpStatus.UNAUTHORIZED).setHeader('WWW-Authenticate', 'Bearer realm="metrics"').json({
        statusCode: HttpStatus.UNAUTHORIZED,
        error: 'unauthorized',
        message: 'This endpoint needs the metrics bearer token',
      });
      return;
    }
    const body = await this.metrics.registry.metrics();
    res.status(HttpStatus.OK).type(this.metrics.registry.contentType).send(body);
  }
}
