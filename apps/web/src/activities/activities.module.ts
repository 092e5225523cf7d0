import { type DynamicModule, Module } from '@nestjs/common';
import { ActivityFiles } from '@tributary/archive';
import { type Keyring, type Logger } from '@tributary/common';
import { type AppConfig } from '@tributary/config';
import { ConnectorRegistry } from '@tributary/connectors';
import {
  ActivityQueryRepository,
  ConnectionRepository,
  type Database,
  SyncRunRepository,
  UserRepository,
} from '@tributary/db';
import { type JobService } from '@tributary/queue';
import { VendorAssetsController } from '../assets/vendor-assets.controller';
import { StatsController } from '../stats/stats.controller';
import { APP_CONFIG, ROOT_LOGGER } from '../web.tokens';
import { ActivitiesApiController } from './activities-api.controller';
import { ActivitiesController } from './activities.controller';
import { ActivityResyncService } from './activity-resync.service';

export interface ActivitiesModuleDependencies {
  config: AppConfig;
  logger: Logger;
  database: Database;
  keyring: Keyring | null;
  connectors: ConnectorRegistry;
  /** Without queues a resync only schedules the user's next sync (the scheduler picks it up). */
  jobs?: JobService;
}

/**
 * The activities list and detail pages, downloads, resync/forget, the stats page, their JSON API and the bundled
 * browser assets (Leaflet, the map script). Sessions and CSRF come from the site module's middleware.
 */
@Module({})
export class ActivitiesModule {
  static forRoot(deps: ActivitiesModuleDependencies): DynamicModule {
    const db = deps.database.db;
    const queries = new ActivityQueryRepository(db);
    const users = new UserRepository(db);
    const connections = new ConnectionRepository(db, deps.keyring);
    const files = new ActivityFiles({
      database: deps.database,
      connections,
      registry: deps.connectors,
      logger: deps.logger,
    });
    const resyncs = new ActivityResyncService({
      queries,
      users,
      syncRuns: new SyncRunRepository(db),
      jobs: deps.jobs,
      cooldownSeconds: deps.config.worker.syncNowCooldownSeconds,
    });
    return {
      module: ActivitiesModule,
      controllers: [ActivitiesApiController, ActivitiesController, StatsController, VendorAssetsController],
      providers: [
        { provide: APP_CONFIG, useValue: deps.config },
        { provide: ROOT_LOGGER, useValue: deps.logger },
        { provide: ActivityQueryRepository, useValue: queries },
        { provide: UserRepository, useValue: users },
        { provide: ConnectionRepository, useValue: connections },
        { provide: ConnectorRegistry, useValue: deps.connectors },
        { provide: ActivityFiles, useValue: files },
        { provide: ActivityResyncService, useValue: resyncs },
      ],
    };
  }
}
