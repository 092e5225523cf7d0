import { type Logger } from '@tributary/common';
import { type WebhookEvent } from '@tributary/connectors';
import { type ConnectionLedgerRepository, type ConnectionRepository, type SyncErrorRepository } from '@tributary/db';
import { JobName, SyncPriority, type JobService } from '@tributary/queue';
import { makeSyncError } from '@tributary/sync';

/**
 * The follow-up check of an announced activity runs this long after the webhook's own (debounced) sync was due,
 * time enough for that sync to finish; later checks back off per JOB_OPTIONS.
 */
export const WEBHOOK_FOLLOW_UP_DELAY_MS = 2 * 60_000;

export interface WebhookIngestDependencies {
  connections: Pick<ConnectionRepository, 'findByServiceAccount' | 'setStatus' | 'setTriggerPartialSync'>;
  syncErrors: Pick<SyncErrorRepository, 'record'>;
  ledger: Pick<ConnectionLedgerRepository, 'isOwnUpload'>;
  jobs: Pick<JobService, 'enqueue'>;
  logger: Logger;
  /** A webhook's sync waits this long so a burst of events (a bulk upload) becomes one sync. */
  debounceMs: number;
}

export interface IngestSummary {
  /** Events naming an account connected here. */
  matched: number;
  /** Events for accounts nobody connected (or disconnected since); acknowledged and dropped. */
  ignored: number;
}

/**
 * Turns verified webhook events into state changes and jobs, system-wide: the event names the service account, the
 * connection found for it gives the user, and everything after is scoped to that user.
 */
export class WebhookIngestService {
  constructor(private readonly deps: WebhookIngestDependencies) {}

  async ingest(service: string, events: readonly WebhookEvent[]): Promise<IngestSummary> {
    const summary: IngestSummary = { matched: 0, ignored: 0 };
    for (const event of events) {
      const connection = await this.deps.connections.findByServiceAccount(service, event.externalUserId);
      if (connection === undefined) {
        summary.ignored++;
        continue;
      }
      summary.matched++;
      await this.apply(service, connection.user_id, connection.id, event);
    }
    return summary;
  }

  private async apply(service: string, userId: string, connectionId: string, event: WebhookEvent): Promise<void> {
    const { connections, jobs, logger } = this.deps;
    const log = logger.child({ service, userId, connectionId, kind: event.kind });
    switch (event.kind) {
      case 'deauthorized':
        await this.deauthorize(service, userId, connectionId);
        log.info('connection deauthorized by the user at the service');
        return;
      case 'activity_deleted':
        // Deletions are not propagated (the copies elsewhere are the user's to keep); nothing to sync.
        return;
      case 'activity_created':
      case 'activity_updated':
      case 'changed':
        // Every copy the hub uploads comes back as a "created" event; syncing for it would only list what we know.
        if (
          event.kind === 'activity_created' &&
          event.objectId !== undefined &&
          (await this.deps.ledger.isOwnUpload(userId, connectionId, event.objectId))
        ) {
          log.debug({ objectId: event.objectId }, 'event announces our own upload; no sync needed');
          return;
        }
        await connections.setTriggerPartialSync(userId, connectionId, true);
        await jobs.enqueue(
          { name: JobName.SyncUser, data: { userId, trigger: 'webhook' } },
          { delayMs: this.deps.debounceMs, priority: SyncPriority.Webhook },
        );
        if (event.objectId !== undefined && event.kind !== 'changed') {
          await jobs.enqueue(
            { name: JobName.WebhookEvent, data: { userId, connectionId, eventId: event.objectId } },
            { delayMs: this.deps.debounceMs + WEBHOOK_FOLLOW_UP_DELAY_MS },
          );
        }
        return;
    }
  }

  private async deauthorize(service: string, userId: string, connectionId: string): Promise<void> {
    const error = makeSyncError({
      step: 'list',
      type: 'auth',
      message: `${service}: access was revoked at ${service}; reconnect to resume syncing`,
      at: Date.now(),
      connectionId,
    });
    await this.deps.connections.setStatus(userId, connectionId, 'needs_reauth');
    await this.deps.syncErrors.record(userId, {
      connectionId,
      scope: error.scope,
      step: error.step,
      code: error.type,
      clearGroup: error.intervention ?? null,
      message: error.message,
      blocking: error.blocking,
      intervention: error.intervention ?? null,
      triggerExhaustive: error.triggerExhaustive,
    });
  }
}
