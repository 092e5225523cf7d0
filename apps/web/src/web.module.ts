import {
  Inject,
  Module,
  RequestMethod,
  type DynamicModule,
  type MiddlewareConsumer,
  type NestModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { type AppConfig } from '@tributary/config';
import { type Logger, type OwnedResource, closeOwnedResources } from '@tributary/common';
import { type JobService } from '@tributary/queue';
import { ActivitiesModule } from './activities/activities.module';
import { AdminModule } from './admin/admin.module';
import { DashboardModule } from './dashboard/dashboard.module';
import { HealthController } from './health/health.controller';
import { MetricsModule } from './metrics/metrics.module';
import { createWebMetrics, type WebMetrics } from './metrics/web-metrics.factory';
import { OpenApiModule } from './openapi/openapi.module';
import { ReadinessService, type ReadinessChecks } from './health/readiness.service';
import { GlobalExceptionFilter } from './middleware/global-exception.filter';
import { RequestLoggingMiddleware } from './middleware/request-logging.middleware';
import { SettingsModule } from './settings/settings.module';
import { SiteModule, type SiteDependencies } from './site/site.module';
import { SyncNowModule } from './sync/sync-now.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { APP_CONFIG, JOB_SERVICE, OWNED_RESOURCES, READINESS_CHECKS, ROOT_LOGGER } from './web.tokens';

/** Everything built at boot, outside Nest, and handed to the module. Tests pass their own. */
export interface WebDependencies {
  config: AppConfig;
  logger: Logger;
  checks: ReadinessChecks;
  jobs?: JobService;
  /** Closed in reverse order on shutdown. */
  resources?: OwnedResource[];
  /** Prometheus registry and hooks; each app gets its own when absent (tests). */
  metrics?: WebMetrics;
  /** The website (sessions, sign-in by connecting, dashboard); omitted by tests that only need the probes. */
  site?: SiteDependencies;
}

class ResourceCloser implements OnApplicationShutdown {
  constructor(
    @Inject(OWNED_RESOURCES) private readonly resources: OwnedResource[],
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationShutdown(signal?: string): Promise<void> {
    await closeOwnedResources(this.resources, (err, resource) =>
      this.logger.warn({ err, resource: resource.name, signal }, 'closing a resource failed'),
    );
  }
}

@Module({})
export class WebModule implements NestModule {
  static forRoot(deps: WebDependencies): DynamicModule {
    return {
      module: WebModule,
      imports: [
        MetricsModule.forRoot({
          metrics: deps.metrics ?? createWebMetrics(),
          ...(deps.config.observability.metricsToken === undefined
            ? {}
            : { token: deps.config.observability.metricsToken }),
        }),
        OpenApiModule,
        ...(deps.site === undefined
          ? []
          : [
              SiteModule.forRoot({ ...deps.site, config: deps.config, logger: deps.logger, jobs: deps.jobs }),
              DashboardModule.forRoot({ ...deps.site, config: deps.config, logger: deps.logger, jobs: deps.jobs }),
              SettingsModule.forRoot({ ...deps.site, config: deps.config, logger: deps.logger }),
              ActivitiesModule.forRoot({ ...deps.site, config: deps.config, logger: deps.logger, jobs: deps.jobs }),
              AdminModule.forRoot({ logger: deps.logger, database: deps.site.database, jobs: deps.jobs ?? null }),
            ]),
        // Webhooks and "Sync now" need the database and the queues.
        ...(deps.site === undefined || deps.jobs === undefined
          ? []
          : [
              WebhooksModule.forRoot({
                config: deps.config,
                logger: deps.logger,
                jobs: deps.jobs,
                database: deps.site.database,
                connectors: deps.site.connectors,
              }),
              SyncNowModule.forRoot({ config: deps.config, jobs: deps.jobs, database: deps.site.database }),
            ]),
      ],
      controllers: [HealthController],
      providers: [
        { provide: APP_CONFIG, useValue: deps.config },
        { provide: ROOT_LOGGER, useValue: deps.logger },
        { provide: READINESS_CHECKS, useValue: deps.checks },
        { provide: JOB_SERVICE, useValue: deps.jobs ?? null },
        { provide: OWNED_RESOURCES, useValue: deps.resources ?? [] },
        { provide: APP_FILTER, useClass: GlobalExceptionFilter },
        ReadinessService,
        ResourceCloser,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RequestLoggingMiddleware).forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }
}
