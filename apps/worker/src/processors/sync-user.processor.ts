import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable } from '@nestjs/common';
import { ConfigError, Keyring, type Logger, isDomainError } from '@tributary/common';
import { ConnectorRegistry, RedisRateLimiter, createConnectors } from '@tributary/connectors';
import { type ConnectionRepository, type UserRepository, createRepositories } from '@tributary/db';
import {
  JobName,
  JobStatus,
  OnJob,
  QueueName,
  syncTimingFromConfig,
  type JobContext,
  type JobOf,
  type SyncTiming,
} from '@tributary/queue';
import { queueBlockingErrorNotifications } from '../notifications/notify.processor';
import { SyncFailuresRepository } from '../sync/sync-failures.repository';
import { SyncUserService } from '../sync/sync-user.service';
import { type WorkerDependencies } from '../worker.module';
import { WORKER_DEPS } from '../worker.tokens';

/*
 * The lease TTL (outlives a few missed heartbeats; a dead worker's user is free again within it) and the heartbeat
 * interval (run row + lease renewal) come from syncTiming, derived from the watchdog's thresholds: 120 s and 15 s by
 * default, shorter when SYNC_HEARTBEAT_STALE_SECONDS is.
 */
/** Immediate re-syncs for webhooks that arrived during a sync, before the scheduler takes over. */
const MAX_TRIGGERED_RESYNCS = 2;
/** A request that found the user busy is picked up by the scheduler this long after. */
export const SYNC_BUSY_RETRY_DELAY_MS = 60_000;

interface SyncWiring {
  service: SyncUserService;
  users: UserRepository;
  connections: ConnectionRepository;
}

/**
 * The SyncUser job: takes the user's Postgres lease (so two workers never sync one user at once, whatever the queue
 * does), runs SyncUserService, and always gives the lease back. Retryable failures are rethrown for BullMQ to retry;
 * permanent ones are recorded on the run and end the job.
 */
@Injectable()
export class SyncUserProcessor {
  private readonly workerId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly logger: Logger;
  private readonly timing: SyncTiming;
  private wiring?: SyncWiring;

  constructor(@Inject(WORKER_DEPS) private readonly deps: WorkerDependencies) {
    this.logger = deps.logger.child({ processor: 'sync-user' });
    this.timing = syncTimingFromConfig(deps.config.worker);
  }

  private wire(): SyncWiring {
    if (this.wiring !== undefined) return this.wiring;
    const { config, database, connection, metrics } = this.deps;
    // Checked per job, not at boot: workers without the sync role construct this provider too.
    if (database === undefined) throw new ConfigError('The sync worker role needs the database');
    const keyring = config.encryptionKeys.length === 0 ? null : new Keyring(config.encryptionKeys);
    const repos = createRepositories(database.db, keyring);
    const limiter = new RedisRateLimiter(connection.createClient('rate-limit'), {
      prefix: `${config.redis.queuePrefix}:ratelimit:`,
      ...(metrics === undefined ? {} : { onBudget: metrics.connectors.observeBudget }),
    });
    const observer = metrics?.connectors.observeRequest;
    const connectors = new ConnectorRegistry(createConnectors(config.services, { limiter, observer }));
    const service = new SyncUserService({
      ...(metrics === undefined ? {} : { metrics: metrics.sync }),
      repos,
      failures: new SyncFailuresRepository(database.db),
      connectors,
      logger: this.logger,
      options: {
        heartbeatIntervalMs: this.timing.heartbeatIntervalMs,
        syncIntervalMs: config.worker.syncIntervalMinutes * 60_000,
      },
    });
    this.wiring = { service, users: repos.users, connections: repos.connections };
    return this.wiring;
  }

  @OnJob({ name: JobName.SyncUser, queue: QueueName.Sync })
  async syncUser(data: JobOf<JobName.SyncUser>, context: JobContext): Promise<JobStatus> {
    const { service, users, connections } = this.wire();
    const owner = `${this.workerId}:${context.jobId}`;
    const lease = await users.acquireLease(data.userId, owner, this.timing.leaseTtlMs);
    if (lease === null) {
      if ((await users.findById(data.userId)) === undefined) return JobStatus.Skipped;
      // Another worker is syncing this user and may have listed before this request's trigger. The queue cannot
      // hold a second job under the same id while this one runs, so the request is kept in Postgres instead.
      await users.scheduleSync(data.userId, {
        at: new Date(Date.now() + SYNC_BUSY_RETRY_DELAY_MS),
        ...(data.exhaustive === true ? { exhaustive: true } : {}),
      });
      this.logger.info({ userId: data.userId, jobId: context.jobId }, 'user is being synced elsewhere; rescheduled');
      return JobStatus.Skipped;
    }
    try {
      const keepAlive = async () => (await users.renewLease(data.userId, owner, this.timing.leaseTtlMs)) !== null;
      let result = await service.run({
        userId: data.userId,
        trigger: data.trigger,
        ...(data.exhaustive === undefined ? {} : { exhaustive: data.exhaustive }),
        workerId: owner,
        keepAlive,
      });
      // A webhook that arrived while this job ran could not queue another one (same job id), so its trigger is still
      // set: sync again now, a bounded number of times, then leave the rest to the scheduler.
      for (let again = 0; result.status === 'succeeded' || result.status === 'partial'; again++) {
        const triggered = (await connections.listForUser(data.userId)).some(
          (c) => c.status === 'ok' && c.trigger_partial_sync,
        );
        if (!triggered) break;
        if (again >= MAX_TRIGGERED_RESYNCS) {
          await users.scheduleSync(data.userId, { at: new Date() });
          break;
        }
        result = await service.run({ userId: data.userId, trigger: 'webhook', workerId: owner, keepAlive });
      }
      if (result.status !== 'skipped') await queueBlockingErrorNotifications(this.deps, data.userId, this.logger);
      switch (result.status) {
        case 'skipped':
          return JobStatus.Skipped;
        case 'failed':
          return JobStatus.Failed;
        case 'succeeded':
        case 'partial':
          return JobStatus.Success;
      }
    } catch (err) {
      if (isDomainError(err) && !err.retryable) {
        this.logger.warn({ err, userId: data.userId }, 'sync failed permanently');
        return JobStatus.Failed;
      }
      throw err;
    } finally {
      await users
        .releaseLease(data.userId, owner)
        .catch((err: unknown) => this.logger.warn({ err, userId: data.userId }, 'could not release the sync lease'));
    }
  }
}
