import { type Logger, NotFoundError, RetryableError, isDomainError } from '@tributary/common';
import {
  type ConnectionRepository,
  type NotificationChannel,
  type NotificationRepository,
  type NotificationSettingsView,
  type SyncErrorRepository,
} from '@tributary/db';
import { JobName, JobStatus, type JobService } from '@tributary/queue';
import { type DeliveryOutcome, type MailSender, postWebhook, redactUrl, sendEmail } from './notification-channels.util';
import { type BlockingGroup, blockingGroups, isNotificationGroupKey } from './notification-group.util';
import { buildNotificationMessage } from './notification-message.util';

export interface NotificationServiceDependencies {
  notifications: NotificationRepository;
  syncErrors: Pick<SyncErrorRepository, 'listOpen'>;
  connections: Pick<ConnectionRepository, 'listForUser'>;
  jobs: Pick<JobService, 'enqueue'>;
  /** Null when SMTP_URL is unset: the email channel is off for everyone. */
  mailer: MailSender | null;
  config: { publicUrl: string; smtpFrom: string; allowHttpWebhooks: boolean };
  logger: Logger;
  fetchImpl?: typeof fetch;
  now?: () => number;
}

/** Some channel failed in a way worth retrying; BullMQ retries the job with backoff, delivered channels stay done. */
export class NotificationDeliveryError extends RetryableError {
  constructor(group: string, failures: readonly string[]) {
    super('notification_delivery', `notification for ${group} not delivered yet: ${failures.join('; ')}`, {
      details: { group },
    });
  }
}

export interface AfterSyncResult {
  /** Groups a Notify job was queued for. */
  queued: string[];
  /** Log rows of groups that resolved, removed so a recurrence notifies again. */
  resolved: number;
}

/**
 * Blocking-error notifications. After each sync, `afterSync` forgets groups that resolved and queues a Notify job
 * for each open group that still has a channel to deliver to; `deliver` (the job) sends the email and the webhook,
 * each claimed in notification_log first, so a group is announced at most once per channel however many syncs hit it.
 */
export class NotificationService {
  private readonly now: () => number;
  private readonly logger: Logger;

  constructor(private readonly deps: NotificationServiceDependencies) {
    this.now = deps.now ?? Date.now;
    this.logger = deps.logger.child({ component: 'notifications' });
  }

  async afterSync(userId: string): Promise<AfterSyncResult> {
    const { notifications } = this.deps;
    const groups = blockingGroups(await this.deps.syncErrors.listOpen(userId));
    const resolved = await notifications.resolveGroups(
      userId,
      groups.map((g) => g.key),
    );
    if (groups.length === 0) return { queued: [], resolved };
    const view = await notifications.getSettings(userId);
    const log = await notifications.listLog(userId);
    const done = new Set(log.filter((row) => row.status !== 'pending').map((row) => `${row.group_key}|${row.channel}`));
    const queued: string[] = [];
    for (const group of groups) {
      const pending = this.channelsFor(view, group).filter((channel) => !done.has(`${group.key}|${channel}`));
      if (pending.length === 0) continue;
      await this.deps.jobs.enqueue({ name: JobName.Notify, data: { userId, group: group.key } });
      queued.push(group.key);
    }
    return { queued, resolved };
  }

  /** Which channels a group goes out on under these settings. */
  private channelsFor(view: NotificationSettingsView, group: BlockingGroup): NotificationChannel[] {
    const { settings } = view;
    if (!settings.enabled) return [];
    const channels: NotificationChannel[] = [];
    const wantsEmail = group.group === 'reauth' ? settings.emailOnReauthNeeded : settings.emailOnBlockingError;
    if (wantsEmail && view.recipient !== null && this.deps.mailer !== null) channels.push('email');
    if (settings.webhookEnabled && settings.webhookUrl !== null) channels.push('webhook');
    return channels;
  }

  /** The Notify job. Throws NotificationDeliveryError when a channel should be tried again. */
  async deliver(userId: string, groupKey: string): Promise<JobStatus> {
    if (!isNotificationGroupKey(groupKey)) return JobStatus.Skipped;
    let view: NotificationSettingsView;
    try {
      view = await this.deps.notifications.getSettings(userId);
    } catch (err) {
      if (err instanceof NotFoundError) return JobStatus.Skipped;
      throw err;
    }
    // The group may have been fixed between the sync and this job (or between retries): then there is nothing to say.
    const group = blockingGroups(await this.deps.syncErrors.listOpen(userId)).find((g) => g.key === groupKey);
    if (group === undefined) return JobStatus.Skipped;
    const channels = this.channelsFor(view, group);
    if (channels.length === 0) return JobStatus.Skipped;
    const connection =
      group.connectionId === null
        ? undefined
        : (await this.deps.connections.listForUser(userId)).find((c) => c.id === group.connectionId);
    const message = buildNotificationMessage({
      userId,
      group,
      service: connection?.service ?? null,
      publicUrl: this.deps.config.publicUrl,
    });
    const log = this.logger.child({ userId, group: groupKey });
    const retry: string[] = [];
    let delivered = 0;
    for (const channel of channels) {
      const row = await this.deps.notifications.claim(userId, groupKey, channel);
      if (row === undefined) continue;
      let outcome: DeliveryOutcome;
      try {
        outcome =
          channel === 'email'
            ? await this.sendEmail(view.recipient!, message)
            : await this.sendWebhook(userId, view.settings.webhookUrl!, message.payload);
      } catch (err) {
        // A secret that cannot be decrypted (its key was removed) will not heal by retrying; the user can rotate it.
        if (!isDomainError(err) || err.retryable) throw err;
        outcome = { ok: false, permanent: true, error: `${err.code}: ${err.message}` };
      }
      if (outcome.ok) {
        await this.deps.notifications.markSent(userId, row.id);
        delivered += 1;
        log.info({ channel, attempt: row.attempts }, 'notification sent');
        continue;
      }
      await this.deps.notifications.markFailed(userId, row.id, outcome.error, outcome.permanent);
      const target =
        channel === 'webhook' ? { webhook: redactUrl(view.settings.webhookUrl!) } : { smtp: 'configured server' };
      if (outcome.permanent) {
        log.warn({ channel, ...target, error: outcome.error }, 'notification refused for good');
      } else {
        log.warn(
          { channel, ...target, error: outcome.error, attempt: row.attempts },
          'notification failed; will retry',
        );
        retry.push(`${channel}: ${outcome.error}`);
      }
    }
    if (retry.length > 0) throw new NotificationDeliveryError(groupKey, retry);
    return delivered > 0 ? JobStatus.Success : JobStatus.Skipped;
  }

  private async sendEmail(
    to: string,
    message: { subject: string; text: string; html: string },
  ): Promise<DeliveryOutcome> {
    const mailer = this.deps.mailer;
    if (mailer === null) return { ok: false, permanent: true, error: 'SMTP_URL is not configured' };
    return sendEmail(mailer, { from: this.deps.config.smtpFrom, to, ...message });
  }

  private async sendWebhook(userId: string, url: string, payload: object): Promise<DeliveryOutcome> {
    const secret = await this.deps.notifications.webhookSecret(userId);
    return postWebhook({
      url,
      body: JSON.stringify(payload),
      secret,
      allowHttpWebhooks: this.deps.config.allowHttpWebhooks,
      nowSeconds: Math.floor(this.now() / 1000),
      ...(this.deps.fetchImpl === undefined ? {} : { fetchImpl: this.deps.fetchImpl }),
    });
  }
}
