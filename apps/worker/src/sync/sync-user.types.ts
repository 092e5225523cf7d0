import { type Logger, type SyncMetricsSink } from '@tributary/common';
import { type ConnectorRegistry } from '@tributary/connectors';
import { type Repositories, type SyncRunCounts, type SyncRunErrorEntry } from '@tributary/db';
import { type SyncTrigger } from '@tributary/queue';
import { type RetryPolicy } from '@tributary/sync';
import { type SyncFailuresRepository } from './sync-failures.repository';

export type SyncRepositories = Pick<
  Repositories,
  'users' | 'connections' | 'activities' | 'originals' | 'ledger' | 'syncRuns' | 'syncErrors' | 'exclusions'
>;

export interface SyncUserOptions {
  /** How often the run row's heartbeat (and the caller's lease renewal) is written during a sync. */
  heartbeatIntervalMs: number;
  /**
   * A partial listing asks for activities after the last listing minus this margin: an activity recorded offline
   * and uploaded days later starts long before it appears at the service.
   */
  partialListingMarginMs: number;
  /** When automatic sync is on, the next scheduled sync is this long after the end of one. */
  syncIntervalMs: number;
  retryPolicy: RetryPolicy;
  /**
   * In a partial sync, a service that announces new activities by webhook is listed only when a webhook (or poll)
   * set its trigger, saving its rate-limited API (tapiriik's PartialSyncRequiresTrigger), unless its last listing is
   * older than this: the safety net for a missed webhook.
   */
  untriggeredListingMaxAgeMs: number;
  /** Upper bound on listing pages per connection, so a service paging in circles cannot hold the worker forever. */
  maxListingPages: number;
}

export interface SyncUserDependencies {
  repos: SyncRepositories;
  failures: SyncFailuresRepository;
  connectors: ConnectorRegistry;
  logger: Logger;
  options?: Partial<SyncUserOptions>;
  /** The clock, epoch ms; tests move it to pass retry backoffs. */
  now?: () => number;
  /** Prometheus hooks: sync durations and activities synced per destination. */
  metrics?: SyncMetricsSink;
}

export interface SyncUserRequest {
  userId: string;
  trigger: SyncTrigger;
  exhaustive?: boolean;
  /** Recorded on the run row (which worker and job ran it). */
  workerId: string;
  /**
   * Called with every heartbeat; resolving false means the caller lost its lease on the user, and the sync stops at
   * the next activity boundary instead of racing another worker.
   */
  keepAlive?: () => Promise<boolean>;
}

export type SyncUserStatus = 'succeeded' | 'partial' | 'failed' | 'skipped';

export interface SyncUserResult {
  status: SyncUserStatus;
  runId?: string;
  counts: SyncRunCounts;
  errors: SyncRunErrorEntry[];
  /** Earliest moment a deferred copy becomes possible (upload delay, retry backoff). */
  nextWakeAt?: number;
}
