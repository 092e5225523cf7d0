import { Inject, Injectable, Optional } from '@nestjs/common';
import { describeError, type Logger } from '@tributary/common';
import { type AuthorizedAccount, ConnectorRegistry, type JsonObject } from '@tributary/connectors';
import { AccountRepository, ConnectionRepository, type ConnectionView, UserRepository } from '@tributary/db';
import { JobName, SyncPriority, type JobService } from '@tributary/queue';
import { ROOT_LOGGER } from '../web.tokens';

export interface ConnectOutcome {
  /** The user the browser is signed in as afterwards. */
  userId: string;
  /** A new Tributary user was created for this connection. */
  created: boolean;
  /** The signed-in user was merged into the account's owner. */
  merged: boolean;
}

/** The queue producer, when the web app has one; without it the scheduler picks the sync up within a minute. */
export const SITE_JOBS = Symbol('SITE_JOBS');

function asJsonObject(value: unknown): JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : {};
}

/**
 * Sign-in by connecting (tapiriik's model: no passwords, an account is its connections).
 *
 * Merge rule: when the connected account already belongs to another Tributary user, the browser's current user is
 * merged INTO that owner (its connections move over; on a service both have, the owner's connection stays and the
 * other one is revoked and removed), and the emptied user is deleted. The owner is kept because its connections and
 * ledgers are the ones already proven to belong to the person holding this external account.
 */
@Injectable()
export class SiteAccountService {
  constructor(
    private readonly users: UserRepository,
    private readonly connections: ConnectionRepository,
    private readonly accounts: AccountRepository,
    private readonly registry: ConnectorRegistry,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    @Optional() @Inject(SITE_JOBS) private readonly jobs: Pick<JobService, 'enqueue'> | null = null,
  ) {}

  async connect(
    currentUserId: string | undefined,
    service: string,
    account: AuthorizedAccount,
  ): Promise<ConnectOutcome> {
    const input = {
      service,
      externalUserId: account.externalUserId,
      displayName: account.displayName ?? null,
      credentials: account.credentials,
    };
    const existing = await this.connections.findByServiceAccount(service, account.externalUserId);
    if (existing !== undefined) {
      const ownerId = existing.user_id;
      let merged = false;
      if (currentUserId !== undefined && currentUserId !== ownerId) {
        const ownerServices = new Set((await this.connections.listForUser(ownerId)).map((c) => c.service));
        const doomed = (await this.connections.listForUser(currentUserId)).filter((c) => ownerServices.has(c.service));
        const doomedCredentials = await Promise.all(
          doomed.map(async (c) => ({ connection: c, credentials: await this.safeReadCredentials(c) })),
        );
        await this.accounts.mergeUsers(currentUserId, ownerId);
        for (const d of doomedCredentials) await this.revoke(d.connection, d.credentials);
        merged = true;
        this.logger.info({ from: currentUserId, into: ownerId, service }, 'merged accounts on connect');
      }
      const connection = await this.connections.connect(ownerId, input);
      // Connecting an account again is how the user re-authorises it: whatever kept it out of syncs is cleared.
      const cleared = await this.accounts.reconnected(ownerId, connection.id);
      if (cleared.errorsCleared > 0 || cleared.exclusionsRemoved > 0) {
        this.logger.info({ userId: ownerId, connectionId: connection.id, ...cleared }, 'connection re-authorised');
      }
      await this.requestSync(ownerId);
      return { userId: ownerId, created: false, merged };
    }

    let userId = currentUserId;
    let created = false;
    if (userId === undefined) {
      userId = (await this.users.create()).id;
      created = true;
    } else {
      // One connection per service: connecting a different account of a service replaces the old one.
      const previous = (await this.connections.listForUser(userId)).find((c) => c.service === service);
      if (previous !== undefined) {
        await this.revoke(previous, await this.safeReadCredentials(previous));
        await this.connections.disconnect(userId, previous.id);
      }
    }
    try {
      await this.connections.connect(userId, input);
    } catch (err) {
      // Lost a race with another browser connecting the same account: do not leave an empty user behind.
      if (created) await this.users.delete(userId);
      throw err;
    }
    await this.users.scheduleSync(userId, { exhaustive: true });
    await this.requestSync(userId);
    return { userId, created, merged: false };
  }

  /**
   * Queues the exhaustive sync at once, so the user sees it start. next_sync_at was set first, so a queue that cannot
   * be reached only delays the sync to the scheduler's next pass; the connection itself is not refused for it.
   */
  private async requestSync(userId: string): Promise<void> {
    if (this.jobs === null) return;
    try {
      await this.jobs.enqueue(
        { name: JobName.SyncUser, data: { userId, trigger: 'connected', exhaustive: true } },
        { priority: SyncPriority.Manual },
      );
    } catch (err) {
      this.logger.warn({ userId, err: describeError(err) }, 'could not queue the sync; the scheduler will');
    }
  }

  /** Revokes at the service (best effort) and deletes the connection; the last one takes the user with it. */
  async disconnect(userId: string, connectionId: string): Promise<{ userDeleted: boolean }> {
    const connection = await this.connections.getForUser(userId, connectionId);
    await this.revoke(connection, await this.safeReadCredentials(connection));
    const result = await this.accounts.disconnect(userId, connection.id);
    return { userDeleted: result.userDeleted };
  }

  private async safeReadCredentials(connection: ConnectionView): Promise<JsonObject | null> {
    try {
      const value = await this.connections.readCredentials(connection.user_id, connection.id);
      return value === null ? null : asJsonObject(value);
    } catch (err) {
      this.logger.warn({ connectionId: connection.id, err: describeError(err) }, 'could not read credentials');
      return null;
    }
  }

  /**
   * Tells the service to forget our token. Failure must not keep the user connected against their will: it is
   * logged and the local connection is deleted anyway (the token dies with the ciphertext).
   */
  private async revoke(connection: ConnectionView, credentials: JsonObject | null): Promise<void> {
    if (credentials === null || !this.registry.has(connection.service)) return;
    try {
      await this.registry.get(connection.service).revoke({
        connectionId: connection.id,
        externalUserId: connection.external_user_id,
        credentials,
        config: connection.config,
        // The connection is deleted right after; a token refreshed on the way out has nowhere to go.
        saveCredentials: () => Promise.resolve(),
      });
    } catch (err) {
      this.logger.warn(
        { connectionId: connection.id, service: connection.service, err: describeError(err) },
        'revoking the token at the service failed; disconnecting anyway',
      );
    }
  }
}
