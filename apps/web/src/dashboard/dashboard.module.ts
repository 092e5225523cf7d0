import { type DynamicModule, Module } from '@nestjs/common';
import { type Logger } from '@tributary/common';
import { type AppConfig } from '@tributary/config';
import { type ConnectorRegistry } from '@tributary/connectors';
import {
  ActivityFeedRepository,
  ConnectionRepository,
  type Database,
  ExclusionRepository,
  SyncErrorRepository,
  SyncRunRepository,
  UserRepository,
} from '@tributary/db';
import { type JobService } from '@tributary/queue';
import { SyncNowService } from '../sync/sync-now.service';
import { DashboardController } from './dashboard.controller';
import { DashboardService } from './dashboard.service';
import { SyncStatusController } from './sync-status.controller';

export interface DashboardModuleDependencies {
  config: AppConfig;
  logger: Logger;
  database: Database;
  connectors: ConnectorRegistry;
  /** Without queues the dashboard still shows everything; only "Sync now" is unavailable. */
  jobs?: JobService;
}

/** GET /dashboard, its "Sync now" and "it's fixed" forms, and GET /api/sync/status. */
@Module({})
export class DashboardModule {
  static forRoot(deps: DashboardModuleDependencies): DynamicModule {
    const db = deps.database.db;
    const users = new UserRepository(db);
    const syncRuns = new SyncRunRepository(db);
    const service = new DashboardService({
      registry: deps.connectors,
      // Reads connection rows only, never credentials: no keyring needed here.
      connections: new ConnectionRepository(db, null),
      users,
      syncRuns,
      syncErrors: new SyncErrorRepository(db),
      exclusions: new ExclusionRepository(db),
      feed: new ActivityFeedRepository(db),
      syncNow:
        deps.jobs === undefined
          ? null
          : new SyncNowService({
              users,
              syncRuns,
              jobs: deps.jobs,
              cooldownSeconds: deps.config.worker.syncNowCooldownSeconds,
            }),
      logger: deps.logger.child({ component: 'dashboard' }),
    });
    return {
      module: DashboardModule,
      controllers: [DashboardController, SyncStatusController],
      providers: [{ provide: DashboardService, useValue: service }],
    };
  }
}
