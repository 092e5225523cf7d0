import { type DynamicModule, Inject, Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Application } from 'express';
import { type Logger } from '@tributary/common';
import {
  AdminDiagnosticsRepository,
  AuditLogRepository,
  ConnectionRepository,
  type Database,
  SyncErrorRepository,
  SyncRunRepository,
  UserRepository,
} from '@tributary/db';
import { type JobService } from '@tributary/queue';
import { AdminApiController } from './admin-api.controller';
import { AdminQueuesService } from './admin-queues.service';
import { AdminController } from './admin.controller';
import { ADMIN_USERS, AdminGuard, type AdminUsers, adminOnlyMiddleware } from './admin.guard';
import { AdminService } from './admin.service';
import { BULL_BOARD_PATH, createBullBoardRouter } from './bull-board.util';

export interface AdminModuleDependencies {
  logger: Logger;
  database: Database;
  /** Null: no queue figures and no Bull Board; requeue then relies on the scheduler. */
  jobs: JobService | null;
}

const ADMIN_JOBS = Symbol('ADMIN_JOBS');

/**
 * Admin diagnostics (/admin, /admin/users, /admin/audit, GET /api/admin/health) and Bull Board at /admin/queues,
 * all behind the admin guard. Bull Board is an Express app rather than a Nest controller, so it is mounted on the
 * HTTP adapter once the session and CSRF middleware are in place (they run for it too).
 */
@Module({})
export class AdminModule implements OnModuleInit {
  static forRoot(deps: AdminModuleDependencies): DynamicModule {
    const db = deps.database.db;
    const users = new UserRepository(db);
    const service = new AdminService({
      users,
      // Credentials are never read here: the admin pages show connection metadata only.
      connections: new ConnectionRepository(db, null),
      syncRuns: new SyncRunRepository(db),
      syncErrors: new SyncErrorRepository(db),
      diagnostics: new AdminDiagnosticsRepository(db),
      audit: new AuditLogRepository(db),
      queues: new AdminQueuesService(deps.jobs, deps.logger.child({ module: 'admin' })),
      jobs: deps.jobs,
    });
    return {
      module: AdminModule,
      controllers: [AdminController, AdminApiController],
      providers: [
        { provide: ADMIN_USERS, useValue: users },
        { provide: ADMIN_JOBS, useValue: deps.jobs },
        { provide: AdminService, useValue: service },
        AdminGuard,
      ],
    };
  }

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(ADMIN_USERS) private readonly users: AdminUsers,
    @Inject(ADMIN_JOBS) private readonly jobs: JobService | null,
  ) {}

  onModuleInit(): void {
    if (this.jobs === null) return;
    const app = this.adapterHost.httpAdapter.getInstance<Application>();
    app.use(BULL_BOARD_PATH, adminOnlyMiddleware(this.users), createBullBoardRouter(this.jobs));
  }
}
