import { Inject, Injectable } from '@nestjs/common';
import { ConfigError } from '@tributary/common';
import { ConnectionRepository } from '@tributary/db';
import { JobName, JobStatus, OnJob, QueueName, type JobContext, type JobOf } from '@tributary/queue';
import { SchedulingRepository } from '../scheduling/scheduling.repository';
import { WebhookFollowUp } from '../scheduling/webhook-follow-up.service';
import { WORKER_DEPS } from '../worker.tokens';
import { type WorkerDependencies } from '../worker.module';

/** Follows up a webhook-announced activity until a sync has seen it (see WebhookFollowUp). */
@Injectable()
export class WebhookEventProcessor {
  private readonly followUp?: WebhookFollowUp;

  constructor(@Inject(WORKER_DEPS) deps: WorkerDependencies) {
    if (deps.database !== undefined) {
      this.followUp = new WebhookFollowUp({
        // Credentials are never read here, so no keyring.
        connections: new ConnectionRepository(deps.database.db, null),
        scheduling: new SchedulingRepository(deps.database.db),
        jobs: deps.jobs,
        logger: deps.logger.child({ component: 'webhook-event' }),
      });
    }
  }

  @OnJob({ name: JobName.WebhookEvent, queue: QueueName.Sync })
  async followUpWebhook(data: JobOf<JobName.WebhookEvent>, context: JobContext): Promise<JobStatus> {
    if (this.followUp === undefined) throw new ConfigError('Webhook events need a database; none was given');
    return this.followUp.handle(data, context);
  }
}
