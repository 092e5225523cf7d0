import { type DynamicModule, Module } from '@nestjs/common';
import { type Logger } from '@tributary/common';
import { type AppConfig } from '@tributary/config';
import { ConnectorRegistry, UnlimitedRateLimiter, createConnectors } from '@tributary/connectors';
import { ConnectionLedgerRepository, ConnectionRepository, SyncErrorRepository, type Database } from '@tributary/db';
import { type JobService } from '@tributary/queue';
import { type RateWindow, SourceRateLimiter } from './source-rate-limiter.util';
import { WebhookIngestService } from './webhook-ingest.service';
import { type WebhookSettings, WebhooksController } from './webhooks.controller';
import { WEBHOOK_CONNECTORS, WEBHOOK_SETTINGS } from './webhooks.tokens';

export interface WebhooksDependencies {
  config: AppConfig;
  logger: Logger;
  jobs: JobService;
  database: Database;
  /** The app's registry when it has one; otherwise one is built from config (see below). */
  connectors?: ConnectorRegistry;
  rateWindow?: RateWindow;
}

/** Strava and Dropbox webhooks (GET handshake, POST events). Needs rawBody enabled on the Nest app. */
@Module({})
export class WebhooksModule {
  static forRoot(deps: WebhooksDependencies): DynamicModule {
    const settings: WebhookSettings = {
      stravaSubscriptionId: deps.config.services.strava.webhookSubscriptionId,
      limiter: new SourceRateLimiter(deps.rateWindow),
      logger: deps.logger.child({ component: 'webhooks' }),
    };
    // Verifying and parsing a webhook never calls the provider, so these connectors need no shared rate limiter.
    const connectors =
      deps.connectors ??
      new ConnectorRegistry(createConnectors(deps.config.services, { limiter: new UnlimitedRateLimiter() }));
    const ingest = new WebhookIngestService({
      // Credentials are never read here, so no keyring.
      connections: new ConnectionRepository(deps.database.db, null),
      syncErrors: new SyncErrorRepository(deps.database.db),
      ledger: new ConnectionLedgerRepository(deps.database.db),
      jobs: deps.jobs,
      logger: settings.logger,
      debounceMs: deps.config.worker.webhookDebounceSeconds * 1000,
    });
    return {
      module: WebhooksModule,
      controllers: [WebhooksController],
      providers: [
        { provide: WEBHOOK_CONNECTORS, useValue: connectors },
        { provide: WEBHOOK_SETTINGS, useValue: settings },
        { provide: WebhookIngestService, useValue: ingest },
      ],
    };
  }
}
