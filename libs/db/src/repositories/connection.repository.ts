import { type Kysely, type UpdateObject, sql } from 'kysely';
import { NotFoundError, PermanentError, type Keyring, ConfigError } from '@tributary/common';
import { type ConnectionRow, type ConnectionStatus, type DB } from '../schema';
import { isUniqueViolation, isUuid } from './pg-errors.util';

/** The service account is already connected to a different user of the hub. */
export class AccountConnectedElsewhereError extends PermanentError {
  constructor(service: string) {
    super('account_connected_elsewhere', `This ${service} account is already connected to another user`, {
      details: { service },
    });
  }
}

/** The user already has a (different) account of this service connected; disconnect it first. */
export class ServiceAlreadyConnectedError extends PermanentError {
  constructor(service: string) {
    super('service_already_connected', `You already have a ${service} account connected`, { details: { service } });
  }
}

export interface ConnectInput {
  service: string;
  externalUserId: string;
  displayName?: string | null;
  /** Tokens, cookies or passwords for the service; encrypted before they reach the database. */
  credentials?: unknown;
  config?: Record<string, unknown>;
}

/** A connection without its ciphertext, for everything that does not talk to the service. */
export type ConnectionView = Omit<ConnectionRow, 'credentials_ciphertext' | 'trigger_partial_sync_at'>;

/** Every column but the ciphertext: what `ConnectionView` holds. */
export const CONNECTION_VIEW_COLUMNS = [
  'id',
  'user_id',
  'service',
  'external_user_id',
  'display_name',
  'credentials_key_id',
  'config',
  'status',
  'trigger_partial_sync',
  'last_listed_at',
  'created_at',
  'updated_at',
] as const;

/**
 * Connected accounts. Credentials are encrypted with the keyring on the way in and decrypted on the way out; they
 * are never returned by the listing methods.
 */
export class ConnectionRepository {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly keyring: Keyring | null,
  ) {}

  private requireKeyring(): Keyring {
    if (this.keyring === null) {
      throw new ConfigError('Credentials cannot be stored or read: no TRIBUTARY_ENCRYPTION_KEYS configured', {
        key: 'TRIBUTARY_ENCRYPTION_KEYS',
      });
    }
    return this.keyring;
  }

  /**
   * Connects (or reconnects) an account. Reconnecting the same account refreshes credentials and resets the status;
   * an account owned by another user is refused, in the same statement (ON CONFLICT … WHERE owner matches).
   */
  async connect(userId: string, input: ConnectInput): Promise<ConnectionView> {
    const ciphertext = input.credentials === undefined ? null : this.requireKeyring().encryptJson(input.credentials);
    const keyId = ciphertext === null ? null : this.requireKeyring().currentKeyId;
    try {
      const row = await this.db
        .insertInto('connections')
        .values({
          user_id: userId,
          service: input.service,
          external_user_id: input.externalUserId,
          display_name: input.displayName ?? null,
          credentials_ciphertext: ciphertext,
          credentials_key_id: keyId,
          config: input.config ?? {},
        })
        .onConflict((oc) =>
          oc
            .constraint('connections_service_account_key')
            .doUpdateSet((eb) => ({
              display_name: eb.fn.coalesce('excluded.display_name', 'connections.display_name'),
              credentials_ciphertext: ciphertext === null ? eb.ref('connections.credentials_ciphertext') : ciphertext,
              credentials_key_id: keyId === null ? eb.ref('connections.credentials_key_id') : keyId,
              status: 'ok',
              updated_at: sql<Date>`now()`,
            }))
            .where('connections.user_id', '=', userId),
        )
        .returning(CONNECTION_VIEW_COLUMNS)
        .executeTakeFirst();
      if (row === undefined) throw new AccountConnectedElsewhereError(input.service);
      return row;
    } catch (err) {
      if (isUniqueViolation(err, 'connections_user_service_key')) throw new ServiceAlreadyConnectedError(input.service);
      throw err;
    }
  }

  async listForUser(userId: string): Promise<ConnectionView[]> {
    return this.db
      .selectFrom('connections')
      .select(CONNECTION_VIEW_COLUMNS)
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  }

  async findForUser(userId: string, connectionId: string): Promise<ConnectionView | undefined> {
    if (!isUuid(connectionId)) return undefined;
    return this.db
      .selectFrom('connections')
      .select(CONNECTION_VIEW_COLUMNS)
      .where('user_id', '=', userId)
      .where('id', '=', connectionId)
      .executeTakeFirst();
  }

  async getForUser(userId: string, connectionId: string): Promise<ConnectionView> {
    const row = await this.findForUser(userId, connectionId);
    if (row === undefined) throw new NotFoundError('connection', connectionId);
    return row;
  }

  /**
   * System-wide lookup for webhooks and polls, which name the service account, not our user. The caller gets the
   * owning user id and must use it for everything after.
   */
  async findByServiceAccount(service: string, externalUserId: string): Promise<ConnectionView | undefined> {
    return this.db
      .selectFrom('connections')
      .select(CONNECTION_VIEW_COLUMNS)
      .where('service', '=', service)
      .where('external_user_id', '=', externalUserId)
      .executeTakeFirst();
  }

  async readCredentials(userId: string, connectionId: string): Promise<unknown> {
    if (!isUuid(connectionId)) throw new NotFoundError('connection', connectionId);
    const row = await this.db
      .selectFrom('connections')
      .select('credentials_ciphertext')
      .where('user_id', '=', userId)
      .where('id', '=', connectionId)
      .executeTakeFirst();
    if (row === undefined) throw new NotFoundError('connection', connectionId);
    return row.credentials_ciphertext === null ? null : this.requireKeyring().decryptJson(row.credentials_ciphertext);
  }

  /** Replaces the credentials (token refresh); `null` forgets them. */
  async writeCredentials(userId: string, connectionId: string, credentials: unknown): Promise<void> {
    const ciphertext = credentials === null ? null : this.requireKeyring().encryptJson(credentials);
    await this.update(userId, connectionId, {
      credentials_ciphertext: ciphertext,
      credentials_key_id: ciphertext === null ? null : this.requireKeyring().currentKeyId,
    });
  }

  async setStatus(userId: string, connectionId: string, status: ConnectionStatus): Promise<void> {
    await this.update(userId, connectionId, { status });
  }

  /** Merges the patch into the connection's config document. */
  async updateConfig(userId: string, connectionId: string, patch: Record<string, unknown>): Promise<ConnectionView> {
    return this.update(userId, connectionId, { config: sql`config || ${JSON.stringify(patch)}::jsonb` });
  }

  async setTriggerPartialSync(userId: string, connectionId: string, value: boolean): Promise<void> {
    await this.update(userId, connectionId, {
      trigger_partial_sync: value,
      trigger_partial_sync_at: value ? sql<Date>`now()` : null,
    });
  }

  /**
   * After a successful listing: remember when, and consume the partial-sync trigger. With `runStartedAt` (the sync
   * run's start, database clock) a trigger raised after it is kept: the run may have listed before that event.
   */
  async markListed(userId: string, connectionId: string, at: Date = new Date(), runStartedAt?: Date): Promise<void> {
    await this.update(userId, connectionId, {
      last_listed_at: at,
      trigger_partial_sync:
        runStartedAt === undefined
          ? false
          : sql<boolean>`trigger_partial_sync AND trigger_partial_sync_at IS NOT NULL AND trigger_partial_sync_at >= ${runStartedAt}`,
    });
  }

  /** Removes the connection and, by cascade, its synchronized UIDs, presence, exclusions and flow exceptions. */
  async disconnect(userId: string, connectionId: string): Promise<boolean> {
    if (!isUuid(connectionId)) return false;
    const res = await this.db
      .deleteFrom('connections')
      .where('user_id', '=', userId)
      .where('id', '=', connectionId)
      .executeTakeFirst();
    return res.numDeletedRows > 0n;
  }

  private async update(
    userId: string,
    connectionId: string,
    values: UpdateObject<DB, 'connections'>,
  ): Promise<ConnectionView> {
    if (!isUuid(connectionId)) throw new NotFoundError('connection', connectionId);
    const row = await this.db
      .updateTable('connections')
      .set(values)
      .set({ updated_at: sql<Date>`now()` })
      .where('user_id', '=', userId)
      .where('id', '=', connectionId)
      .returning(CONNECTION_VIEW_COLUMNS)
      .executeTakeFirst();
    if (row === undefined) throw new NotFoundError('connection', connectionId);
    return row;
  }
}
