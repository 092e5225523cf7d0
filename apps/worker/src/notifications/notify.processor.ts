import { Inject, Injectable } from '@nestjs/common';
import { ConfigError, Keyring, type Logger, describeError } from '@tributary/common';
import { ConnectionRepository, NotificationRepository, SyncErrorRepository } from '@tributary/db';
import { JobName, type JobStatus, OnJob, QueueName, type JobOf } from '@tributary/queue';
import { type WorkerDependencies } from '../worker.module';
import { WORKER_DEPS } from '../worker.tokens';
import { createMailSender } from './notification-channels.util';
import { NotificationService } from './notification.service';

/*
 * One service per worker (keyed by its dependencies), shared by the Notify handler and the sync processor's
 * after-sync hook, so both see the same mail transport.
 */
const services = new WeakMap<WorkerDependencies, NotificationService>();

export function notificationServiceFor(deps: WorkerDependencies): NotificationService {
  const existing = services.get(deps);
  if (existing !== undefined) return existing;
  const { config, database } = deps;
  if (database === undefined) throw new ConfigError('Notifications need the database');
  const keyring = config.encryptionKeys.length === 0 ? null : new Keyring(config.encryptionKeys);
  const service = new NotificationService({
    notifications: new NotificationRepository(database.db, keyring),
    syncErrors: new SyncErrorRepository(database.db),
    // Only the service name is read, never credentials.
    connections: new ConnectionRepository(database.db, null),
    jobs: deps.jobs,
    mailer: config.notifications.smtpUrl === undefined ? null : createMailSender(config.notifications.smtpUrl),
    config: {
      publicUrl: config.web.publicUrl,
      smtpFrom: config.notifications.smtpFrom,
      allowHttpWebhooks: config.notifications.allowHttpWebhooks,
    },
    logger: deps.logger,
  });
  services.set(deps, service);
  return service;
}

/**
 * The hook the sync processor calls when a run ended: queues notifications for blocking error groups and forgets
 * resolved ones. A notification problem must never fail or retry the sync, so errors are logged and swallowed;
 * the next sync tries again.
 */
export async function queueBlockingErrorNotifications(
  deps: WorkerDependencies,
  userId: string,
  logger: Logger,
): Promise<void> {
  try {
    await notificationServiceFor(deps).afterSync(userId);
  } catch (err) {
    logger.warn({ err, userId }, `could not queue blocking-error notifications: ${describeError(err)}`);
  }
}

/** Delivers one error group's email and webhook (see NotificationService.deliver). */
@Injectable()
export class NotifyProcessor {
  constructor(@Inject(WORKER_DEPS) private readonly deps: WorkerDependencies) {}

  @OnJob({ name: JobName.Notify, queue: QueueName.Sync })
  async notify(data: JobOf<JobName.Notify>): Promise<JobStatus> {
    return notificationServiceFor(this.deps).deliver(data.userId, data.group);
  }
}
