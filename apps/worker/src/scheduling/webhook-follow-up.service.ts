import { RetryableError, type Logger } from '@tributary/common';
import { type ConnectionRepository } from '@tributary/db';
import {
  JOB_OPTIONS,
  JobName,
  JobStatus,
  SyncPriority,
  type JobContext,
  type JobOf,
  type JobService,
} from '@tributary/queue';
import { type SchedulingRepository } from './scheduling.repository';

/** The announced activity is not in the user's records yet; the job is retried with backoff (JOB_OPTIONS). */
export class ActivityNotVisibleYetError extends RetryableError {
  constructor(connectionId: string, remoteId: string) {
    super('activity_not_visible_yet', `Activity ${remoteId} announced by a webhook has not been listed yet`, {
      details: { connectionId, remoteId },
    });
  }
}

export interface WebhookFollowUpDependencies {
  connections: Pick<ConnectionRepository, 'findForUser' | 'setTriggerPartialSync'>;
  scheduling: Pick<SchedulingRepository, 'isActivityListed'>;
  jobs: Pick<JobService, 'enqueue'>;
  logger: Logger;
  /** Attempts before giving up; BullMQ's own limit for the job by default. */
  maxAttempts?: number;
}

/**
 * Makes sure an activity a webhook announced is actually synced. Providers can send the event before their API
 * lists the activity (tapiriik #335 lost an hour there): the webhook's own sync then finds nothing new. This job runs
 * after that sync should have finished; while the activity is not among what the connection's listings have seen, it
 * asks for another partial sync and fails retryably, so BullMQ checks again after 1, 2, 4, 8 and 16 minutes. The
 * announced object id travels in the job payload (eventId), so nothing needs storing on the connection.
 */
export class WebhookFollowUp {
  constructor(private readonly deps: WebhookFollowUpDependencies) {}

  async handle(data: JobOf<JobName.WebhookEvent>, context: JobContext): Promise<JobStatus> {
    const { connections, scheduling, jobs, logger } = this.deps;
    const log = logger.child({ userId: data.userId, connectionId: data.connectionId, remoteId: data.eventId });
    const connection = await connections.findForUser(data.userId, data.connectionId);
    // Disconnected since, or the account needs the user first: another sync cannot help.
    if (connection === undefined || connection.status !== 'ok') return JobStatus.Skipped;
    if (await scheduling.isActivityListed(data.userId, data.connectionId, data.eventId)) {
      if (context.attempt > 1) log.info({ attempt: context.attempt }, 'announced activity is now synced');
      return JobStatus.Success;
    }
    const maxAttempts = this.deps.maxAttempts ?? JOB_OPTIONS[JobName.WebhookEvent].attempts ?? 1;
    if (context.attempt >= maxAttempts) {
      // Deleted or made private before we could read it, most likely; the regular schedule still covers it.
      log.warn({ attempt: context.attempt }, 'announced activity never appeared in a listing; giving up');
      return JobStatus.Failed;
    }
    await connections.setTriggerPartialSync(data.userId, data.connectionId, true);
    await jobs.enqueue(
      { name: JobName.SyncUser, data: { userId: data.userId, trigger: 'webhook' } },
      { priority: SyncPriority.Webhook },
    );
    throw new ActivityNotVisibleYetError(data.connectionId, data.eventId);
  }
}
