import { type DynamicModule, Module } from '@nestjs/common';
import { type AppConfig } from '@tributary/config';
import { SyncRunRepository, UserRepository, type Database } from '@tributary/db';
import { type JobService } from '@tributary/queue';
import { SyncNowController } from './sync-now.controller';
import { SyncNowService } from './sync-now.service';

export interface SyncNowModuleDependencies {
  config: AppConfig;
  jobs: JobService;
  database: Database;
}

/** POST /api/sync/now for the signed-in user (req.user comes from the site's session middleware). */
@Module({})
export class SyncNowModule {
  static forRoot(deps: SyncNowModuleDependencies): DynamicModule {
    const service = new SyncNowService({
      users: new UserRepository(deps.database.db),
      syncRuns: new SyncRunRepository(deps.database.db),
      jobs: deps.jobs,
      cooldownSeconds: deps.config.worker.syncNowCooldownSeconds,
    });
    return {
      module: SyncNowModule,
      controllers: [SyncNowController],
      providers: [{ provide: SyncNowService, useValue: service }],
    };
  }
}
