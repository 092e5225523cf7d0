import { type DynamicModule, type MiddlewareConsumer, Module, type NestModule, RequestMethod } from '@nestjs/common';
import { HttpMetricsMiddleware } from './http-metrics.middleware';
import { MetricsController } from './metrics.controller';
import { METRICS_TOKEN, WEB_METRICS } from './metrics.tokens';
import { type WebMetrics } from './web-metrics.factory';

/** GET /metrics and the request metrics behind it (every route, including 404s). */
@Module({})
export class MetricsModule implements NestModule {
  static forRoot(deps: { metrics: WebMetrics; token?: string }): DynamicModule {
    return {
      module: MetricsModule,
      controllers: [MetricsController],
      providers: [
        { provide: WEB_METRICS, useValue: deps.metrics },
        { provide: METRICS_TOKEN, useValue: deps.token ?? null },
        HttpMetricsMiddleware,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware).forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }
}
