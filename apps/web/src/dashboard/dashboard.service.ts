import { isDomainError, type Logger } from '@tributary/common';
import { type ConnectorRegistry, type ServiceConnector } from '@tributary/connectors';
import {
  type ActivityFeedRepository,
  type ConnectionRepository,
  type ConnectionView,
  type ExclusionRepository,
  type FeedEntry,
  type SyncErrorRepository,
  type SyncErrorRow,
  type SyncRunRepository,
  type UserRepository,
} from '@tributary/db';
import { isCredentialsConnectable } from '../auth/credentials-login.service';
import { isOAuthConnectable } from '../auth/oauth-connect.service';
import { SyncNowCooldownError } from '../sync/sync-now.error';
import { type SyncNowService } from '../sync/sync-now.service';
import { describeSyncRun, type SyncStatus } from './sync-status.util';

export interface DashboardDependencies {
  registry: ConnectorRegistry;
  connections: ConnectionRepository;
  users: UserRepository;
  syncRuns: SyncRunRepository;
  syncErrors: SyncErrorRepository;
  exclusions: ExclusionRepository;
  feed: ActivityFeedRepository;
  /** Null when the web app runs without queues (tests of the pages alone): "Sync now" is then unavailable. */
  syncNow: SyncNowService | null;
  logger: Logger;
}

/** The one-click fix offered next to a blocking error. */
export type ErrorFix = { kind: 'reconnect'; href: string; label: string } | { kind: 'resolve'; label: string };

export interface BlockingErrorView {
  id: string;
  connectionId: string | null;
  serviceName: string | null;
  message: string;
  intervention: string | null;
  lastAt: Date;
  count: number;
  fix: ErrorFix;
}

export interface ConnectionCardView {
  id: string;
  service: string;
  serviceName: string;
  account: string;
  status: ConnectionView['status'];
  /** Extra conditions from open blocking errors ("account full", "account locked"). */
  problems: string[];
  lastListedAt: Date | null;
  connectedAt: Date;
  reconnectable: boolean;
}

export interface AvailableServiceView {
  id: string;
  name: string;
  supplies: boolean;
  receives: boolean;
  connectable: boolean;
}

export interface DashboardModel {
  connections: ConnectionCardView[];
  available: AvailableServiceView[];
  errors: BlockingErrorView[];
  feed: FeedEntry[];
  sync: SyncStatus;
  syncAvailable: boolean;
  serviceNames: Record<string, string>;
}

/** What an intervention group means to a person, and the words on its "done" button. */
const INTERVENTIONS: Readonly<Record<string, { problem: string; button: string }>> = {
  account_full: { problem: 'account full', button: "I've made space" },
  account_locked: { problem: 'account locked', button: "It's unlocked now" },
  account_expired: { problem: 'subscription expired', button: "It's renewed now" },
  account_type: { problem: 'account type not supported', button: "It's ready now" },
  upload_consent: { problem: 'upload permission missing', button: "It's ready now" },
};

export type SyncRequestOutcome =
  | { kind: 'queued'; alreadyQueued: boolean }
  | { kind: 'cooldown'; retryAfterSeconds: number }
  | { kind: 'unavailable' };

/** Reads and acts on everything the dashboard shows; every call is scoped to the signed-in user. */
export class DashboardService {
  constructor(private readonly deps: DashboardDependencies) {}

  serviceName(id: string): string {
    return this.deps.registry.has(id) ? this.deps.registry.get(id).name : id;
  }

  async status(userId: string): Promise<SyncStatus> {
    const [latest] = await this.deps.syncRuns.listRecent(userId, 1);
    const cooldown = this.deps.syncNow === null ? 0 : await this.deps.syncNow.cooldownRemaining(userId);
    return describeSyncRun(latest, cooldown, (id) => this.serviceName(id));
  }

  async overview(userId: string): Promise<DashboardModel> {
    const { registry } = this.deps;
    const [rows, open, feed, sync] = await Promise.all([
      this.deps.connections.listForUser(userId),
      this.deps.syncErrors.listOpen(userId),
      this.deps.feed.recent(userId, 10),
      this.status(userId),
    ]);
    const byId = new Map(rows.map((c) => [c.id, c]));
    const blocking = open.filter((e) => e.blocking);
    const connections = rows.map((c): ConnectionCardView => {
      const connector = this.connector(c.service);
      const problems = blocking
        .filter((e) => e.connection_id === c.id && e.intervention !== null && e.intervention !== 'reauth')
        .map((e) => INTERVENTIONS[e.intervention ?? '']?.problem ?? e.code);
      return {
        id: c.id,
        service: c.service,
        serviceName: connector?.name ?? c.service,
        account: c.display_name ?? c.external_user_id,
        status: c.status,
        problems: [...new Set(problems)],
        lastListedAt: c.last_listed_at,
        connectedAt: c.created_at,
        reconnectable:
          connector !== undefined && (isOAuthConnectable(connector) || isCredentialsConnectable(connector)),
      };
    });
    const connected = new Set(rows.map((c) => c.service));
    const serviceNames: Record<string, string> = {};
    for (const c of registry.all()) serviceNames[c.id] = c.name;
    return {
      connections,
      available: registry
        .all()
        .filter((c) => !connected.has(c.id))
        .map((c) => ({
          id: c.id,
          name: c.name,
          supplies: c.capabilities.supplies,
          receives: c.capabilities.receives,
          connectable: isOAuthConnectable(c) || isCredentialsConnectable(c),
        })),
      errors: blocking.map((e) => this.errorView(e, e.connection_id === null ? undefined : byId.get(e.connection_id))),
      feed,
      sync,
      syncAvailable: this.deps.syncNow !== null,
      serviceNames,
    };
  }

  async requestSync(userId: string): Promise<SyncRequestOutcome> {
    if (this.deps.syncNow === null) return { kind: 'unavailable' };
    try {
      const result = await this.deps.syncNow.request(userId);
      return { kind: 'queued', alreadyQueued: result.alreadyQueued };
    } catch (err) {
      if (err instanceof SyncNowCooldownError) return { kind: 'cooldown', retryAfterSeconds: err.retryAfterSeconds };
      throw err;
    }
  }

  /**
   * "It's ready now" / "I've made space": clears the error (with every error of its group on that connection) and
   * the exclusion it put on an activity, then asks for a sync. A sync refused by the cooldown is scheduled instead,
   * so the fix is picked up without pressing anything else.
   */
  async resolveError(userId: string, errorId: string): Promise<boolean> {
    const error = (await this.deps.syncErrors.listOpen(userId)).find((e) => e.id === errorId);
    if (error === undefined) return false;
    if (error.connection_id !== null && error.clear_group !== null) {
      await this.deps.syncErrors.clearGroup(userId, error.connection_id, error.clear_group);
    } else {
      await this.deps.syncErrors.clear(userId, error.id);
    }
    if (error.connection_id !== null && error.activity_uid !== null) {
      await this.deps.exclusions.remove(userId, error.connection_id, error.activity_uid);
    }
    const outcome = await this.requestSync(userId).catch((err: unknown) => {
      // The error is cleared either way; the scheduled sync below picks it up.
      this.deps.logger.warn({ userId, err: isDomainError(err) ? err.code : String(err) }, 'sync after a fix failed');
      return { kind: 'unavailable' as const };
    });
    if (outcome.kind !== 'queued') await this.deps.users.scheduleSync(userId, { exhaustive: error.trigger_exhaustive });
    return true;
  }

  private connector(service: string): ServiceConnector | undefined {
    return this.deps.registry.has(service) ? this.deps.registry.get(service) : undefined;
  }

  private errorView(e: SyncErrorRow, connection: ConnectionView | undefined): BlockingErrorView {
    const connector = connection === undefined ? undefined : this.connector(connection.service);
    const serviceName = connection === undefined ? null : (connector?.name ?? connection.service);
    let fix: ErrorFix;
    if (e.intervention === 'reauth' && connection !== undefined) {
      fix = { kind: 'reconnect', href: `/connect/${connection.service}`, label: `Reconnect ${serviceName ?? ''}` };
    } else {
      fix = { kind: 'resolve', label: INTERVENTIONS[e.intervention ?? '']?.button ?? "It's ready now" };
    }
    return {
      id: e.id,
      connectionId: e.connection_id,
      serviceName,
      message: e.message,
      intervention: e.intervention,
      lastAt: e.last_at,
      count: e.count,
      fix,
    };
  }
}
