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
import { type Logger } from '@tributary/common';
import { type JobService } from '@tributary/queue';
import { HealthController } from './health/health.controller';
import { ReadinessService, type ReadinessChecks } from './health/readiness.service';
import { GlobalExceptionFilter } from './middleware/global-exception.filter';
import { RequestLoggingMiddleware } from './middleware/request-logging.middleware';
import { SiteModule, type SiteDependencies } from './site/site.module';
import { SyncNowModule } from './sync/sync-now.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { APP_CONFIG, JOB_SERVICE, OWNED_RESOURCES, READINESS_CHECKS, ROOT_LOGGER } from './web.tokens';

/** Something main.ts opened before Nest started (database pool, Redis clients) and Nest must close on shutdown. */
export interface OwnedResource {
  name: string;
  close(): Promise<void>;
}

/** Everything built at boot, outside Nest, and handed to the module. Tests pass their own. */
export interface WebDependencies {
  config: AppConfig;
  logger: Logger;
  checks: ReadinessChecks;
  jobs?: JobService;
  /** Closed in reverse order on shutdown. */
  resources?: OwnedResource[];
  /** The website (sessions, sign-in by connecting, dashboard); omitted by tests that only need the probes. */
  site?: SiteDependencies;
}

class ResourceCloser implements OnApplicationShutdown {
  constructor(
    @Inject(OWNED_RESOURCES) private readonly resources: OwnedResource[],
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationShutdown(signal?: string): Promise<void> {
    for (const resource of [...this.resources].reverse()) {
      try {
        await resource.close();
      } catch (err) {
        this.logger.warn({ err, resource: resource.name, signal }, 'closing a resource failed');
      }
    }
  }
}

@Module({})
export class WebModule implements NestModule {
  static forRoot(deps: WebDependencies): DynamicModule {
    return {
      module: WebModule,
      imports: [
        ...(deps.site === undefined
          ? []
          : [SiteModule.forRoot({ ...deps.site, config: deps.config, logger: deps.logger })]),
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
