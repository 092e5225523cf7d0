import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable } from '@nestjs/common';
import { ConfigError, Keyring, type Logger, isDomainError } from '@tributary/common';
import { ConnectorRegistry, RedisRateLimiter, createConnectors } from '@tributary/connectors';
import { type UserRepository, createRepositories } from '@tributary/db';
import { JobName, JobStatus, OnJob, QueueName, type JobContext, type JobOf } from '@tributary/queue';
import { SyncFailuresRepository } from '../sync/sync-failures.repository';
import { SyncUserService } from '../sync/sync-user.service';
import { type WorkerDependencies } from '../worker.module';
import { WORKER_DEPS } from '../worker.tokens';

/** The lease outlives a missed heartbeat or two, and a dead worker's user is free again within this. */
export const SYNC_LEASE_TTL_MS = 120_000;
/** Heartbeats (run row + lease renewal) well inside the lease TTL. */
export const SYNC_HEARTBEAT_MS = 15_000;
/** A request that found the user busy is picked up by the scheduler this long after. */
export const SYNC_BUSY_RETRY_DELAY_MS = 60_000;

interface SyncWiring {
  service: SyncUserService;
  users: UserRepository;
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
  private wiring?: SyncWiring;

  constructor(@Inject(WORKER_DEPS) private readonly deps: WorkerDependencies) {
    this.logger = deps.logger.child({ processor: 'sync-user' });
  }

  private wire(): SyncWiring {
    if (this.wiring !== undefined) return this.wiring;
    const { config, database, connection } = this.deps;
    // Checked per job, not at boot: workers without the sync role construct this provider too.
    if (database === undefined) throw new ConfigError('The sync worker role needs the database');
    const keyring = config.encryptionKeys.length === 0 ? null : new Keyring(config.encryptionKeys);
    const repos = createRepositories(database.db, keyring);
    const limiter = new RedisRateLimiter(connection.createClient('rate-limit'), {
      prefix: `${config.redis.queuePrefix}:ratelimit:`,
    });
    const connectors = new ConnectorRegistry(createConnectors(config.services, { limiter }));
    const service = new SyncUserService({
      repos,
      failures: new SyncFailuresRepository(database.db),
      connectors,
      logger: this.logger,
      options: {
        heartbeatIntervalMs: SYNC_HEARTBEAT_MS,
        syncIntervalMs: config.worker.syncIntervalMinutes * 60_000,
      },
    });
    this.wiring = { service, users: repos.users };
    return this.wiring;
  }

  @OnJob({ name: JobName.SyncUser, queue: QueueName.Sync })
  async syncUser(data: JobOf<JobName.SyncUser>, context: JobContext): Promise<JobStatus> {
    const { service, users } = this.wire();
    const owner = `${this.workerId}:${context.jobId}`;
    const lease = await users.acquireLease(data.userId, owner, SYNC_LEASE_TTL_MS);
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
      const result = await service.run({
        userId: data.userId,
        trigger: data.trigger,
        ...(data.exhaustive === undefined ? {} : { exhaustive: data.exhaustive }),
        workerId: owner,
        keepAlive: async () => (await users.renewLease(data.userId, owner, SYNC_LEASE_TTL_MS)) !== null,
      });
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
