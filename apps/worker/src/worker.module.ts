import {
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { DiscoveryModule, DiscoveryService } from '@nestjs/core';
import { type Logger, type OwnedResource, closeOwnedResources } from '@tributary/common';
import { type AppConfig } from '@tributary/config';
import {
  JobWorkers,
  QueueName,
  collectJobHandlers,
  jobsForRoles,
  syncTimingFromConfig,
  type JobService,
  type QueueConnection,
} from '@tributary/queue';
import { type Database } from '@tributary/db';
import { type WorkerMetrics } from './http/worker-metrics.factory';
import { NotifyProcessor } from './notifications/notify.processor';
import { SchedulerProcessor } from './processors/scheduler.processor';
import { StatsProcessor, type StatsSink } from './processors/stats.processor';
import { SyncUserProcessor } from './processors/sync-user.processor';
import { WatchdogProcessor } from './processors/watchdog.processor';
import { WebhookEventProcessor } from './processors/webhook-event.processor';
import { WORKER_DEPS } from './worker.tokens';

export interface WorkerDependencies {
  config: AppConfig;
  logger: Logger;
  connection: QueueConnection;
  jobs: JobService;
  stats: StatsSink;
  /** The opened (migrated) database; processors that touch users, connections or runs refuse to run without it. */
  database?: Database;
  /** Opened by main.ts before Nest started; closed in reverse order after the workers stop. */
  resources?: OwnedResource[];
  /** Prometheus hooks (sync durations, API calls, rate-limit budgets); absent in tests that do not look. */
  metrics?: WorkerMetrics;
  drainTimeoutMs?: number;
}

/** Every provider that may hold @OnJob handlers. Add new processors here. */
const PROCESSORS = [
  StatsProcessor,
  SchedulerProcessor,
  WatchdogProcessor,
  WebhookEventProcessor,
  SyncUserProcessor,
  NotifyProcessor,
];

/**
 * Starts the BullMQ workers for the enabled roles (WORKER_ROLES) once every provider exists, after checking that each
 * job of those roles has exactly one handler; on shutdown (SIGTERM) waits for active jobs, then closes connections.
 */
@Injectable()
export class WorkerRuntime implements OnModuleInit, OnApplicationShutdown {
  private workers?: JobWorkers;

  constructor(
    @Inject(WORKER_DEPS) private readonly deps: WorkerDependencies,
    private readonly discovery: DiscoveryService,
  ) {}

  async onModuleInit(): Promise<void> {
    const { config, logger } = this.deps;
    const instances = this.discovery
      .getProviders()
      .map((wrapper) => wrapper.instance as unknown)
      .filter((instance): instance is object => typeof instance === 'object' && instance !== null);
    const handlers = collectJobHandlers(instances, jobsForRoles(config.worker.roles));
    if (config.worker.roles.includes('scheduler')) {
      const schedulers = await this.deps.jobs.upsertSchedulers();
      logger.info({ schedulers }, 'job schedulers upserted');
    }
    this.workers = new JobWorkers({
      connection: this.deps.connection,
      prefix: config.redis.queuePrefix,
      logger,
      concurrency: { [QueueName.Sync]: config.worker.syncConcurrency },
      // Consistent with the watchdog's thresholds, so BullMQ redelivers a dead worker's job before the watchdog acts.
      stall: syncTimingFromConfig(config.worker).stall,
    });
    this.workers.start(handlers);
    logger.info({ roles: config.worker.roles, jobs: [...handlers.keys()] }, 'worker started');
  }

  async onApplicationShutdown(signal?: string): Promise<void> {
    const { logger } = this.deps;
    if (this.workers !== undefined) {
      logger.info({ signal }, 'draining workers');
      const { drained } = await this.workers.close(this.deps.drainTimeoutMs);
      logger.info({ drained }, 'workers stopped');
    }
    // After the workers drained: their jobs may still have needed the database and Redis.
    await closeOwnedResources(this.deps.resources ?? [], (err, resource) =>
      logger.warn({ err, resource: resource.name }, 'closing a resource failed'),
    );
  }
}

@Module({})
export class WorkerModule {
  static forRoot(deps: WorkerDependencies): DynamicModule {
    return {
      module: WorkerModule,
      imports: [DiscoveryModule],
      providers: [{ provide: WORKER_DEPS, useValue: deps }, ...PROCESSORS, WorkerRuntime],
    };
  }
}
