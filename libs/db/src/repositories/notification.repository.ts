import { randomBytes } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { ConfigError, type Keyring, NotFoundError, isDomainError } from '@tributary/common';
import {
  type DB,
  DEFAULT_NOTIFICATION_SETTINGS,
  type NotificationChannel,
  type NotificationLogRow,
  type NotificationSettings,
  type UserSettings,
} from '../schema';
import { type NotificationSettingsOptions, parseNotificationSettings } from './notification-settings.schema';
import { isUuid } from './pg-errors.util';

/** What the settings page shows: the stored settings with defaults, and where email would actually go. */
export interface NotificationSettingsView {
  settings: NotificationSettings;
  /** The account's own email address (users.email), the default recipient. */
  accountEmail: string | null;
  /** settings.email, else the account email; null means no email can be sent. */
  recipient: string | null;
  /** Whether a webhook signing secret exists (it is created on first use and only revealed on request). */
  webhookSecretCreated: boolean;
}

export interface SecretRotationReport {
  scanned: number;
  reencrypted: number;
  failed: { userId: string; code: string }[];
}

/** Stored trimmed: errors quote upstream SMTP and HTTP answers. */
const MAX_ERROR = 1000;

/** Prefix so a secret pasted into the wrong place is recognisable (as Stripe's whsec_). */
const SECRET_PREFIX = 'whsec_';

export function resolveNotificationSettings(stored: Partial<UserSettings>): NotificationSettings {
  return { ...DEFAULT_NOTIFICATION_SETTINGS, ...stored.notifications };
}

/**
 * Per-user notification settings, webhook signing secrets and the at-most-once delivery log. Every method is
 * scoped by userId except `reencryptSecrets`, an operator action over every user.
 */
export class NotificationRepository {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly keyring: Keyring | null,
  ) {}

  async getSettings(userId: string): Promise<NotificationSettingsView> {
    if (!isUuid(userId)) throw new NotFoundError('user', userId);
    const row = await this.db
      .selectFrom('users as u')
      .leftJoin('notification_secrets as s', 's.user_id', 'u.id')
      .select(['u.email', 'u.settings', 's.user_id as secret_user'])
      .where('u.id', '=', userId)
      .executeTakeFirst();
    if (row === undefined) throw new NotFoundError('user', userId);
    return this.view(row.email, row.settings, row.secret_user !== null);
  }

  /**
   * Validates `input` with parseNotificationSettings (throws a ValidationError naming the bad fields; nothing is
   * stored then) and merges it into the stored notification settings in one statement, so a concurrent change to
   * another setting is not lost.
   */
  async updateSettings(
    userId: string,
    input: unknown,
    options: NotificationSettingsOptions = {},
  ): Promise<NotificationSettingsView> {
    const patch = parseNotificationSettings(input, options);
    if (!isUuid(userId)) throw new NotFoundError('user', userId);
    const row = await this.db
      .updateTable('users')
      .set({
        settings: sql`jsonb_set(settings, '{notifications}', coalesce(settings -> 'notifications', '{}'::jsonb) || ${JSON.stringify(patch)}::jsonb)`,
      })
      .where('id', '=', userId)
      .returning(['email', 'settings'])
      .executeTakeFirst();
    if (row === undefined) throw new NotFoundError('user', userId);
    const secret = await this.db
      .selectFrom('notification_secrets')
      .select('user_id')
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return this.view(row.email, row.settings, secret !== undefined);
  }

  private view(accountEmail: string | null, stored: Partial<UserSettings>, secret: boolean): NotificationSettingsView {
    const settings = resolveNotificationSettings(stored);
    return { settings, accountEmail, recipient: settings.email ?? accountEmail, webhookSecretCreated: secret };
  }

  /** The user's webhook signing secret, created on first use. */
  async webhookSecret(userId: string): Promise<string> {
    const keyring = this.requireKeyring();
    if (!isUuid(userId)) throw new NotFoundError('user', userId);
    const existing = await this.db
      .selectFrom('notification_secrets')
      .select('secret_ciphertext')
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (existing !== undefined) return keyring.decrypt(existing.secret_ciphertext);
    const fresh = newSecret();
    // Two first uses at once (settings page and a delivery) must agree on one secret: the loser reads the winner's.
    const inserted = await this.db
      .insertInto('notification_secrets')
      .values({ user_id: userId, secret_ciphertext: keyring.encrypt(fresh), key_id: keyring.currentKeyId })
      .onConflict((oc) => oc.column('user_id').doNothing())
      .returning('user_id')
      .executeTakeFirst()
      .catch((err: unknown) => {
        if ((err as { code?: string }).code === '23503') throw new NotFoundError('user', userId);
        throw err;
      });
    if (inserted !== undefined) return fresh;
    return this.webhookSecret(userId);
  }

  /** Replaces the signing secret (the user suspects it leaked); returns the new one. */
  async rotateWebhookSecret(userId: string): Promise<string> {
    const keyring = this.requireKeyring();
    if (!isUuid(userId)) throw new NotFoundError('user', userId);
    const fresh = newSecret();
    const row = await this.db
      .insertInto('notification_secrets')
      .values({ user_id: userId, secret_ciphertext: keyring.encrypt(fresh), key_id: keyring.currentKeyId })
      .onConflict((oc) =>
        oc.column('user_id').doUpdateSet((eb) => ({
          secret_ciphertext: eb.ref('excluded.secret_ciphertext'),
          key_id: eb.ref('excluded.key_id'),
          created_at: sql<Date>`now()`,
        })),
      )
      .returning('user_id')
      .executeTakeFirst()
      .catch((err: unknown) => {
        if ((err as { code?: string }).code === '23503') throw new NotFoundError('user', userId);
        throw err;
      });
    if (row === undefined) throw new NotFoundError('user', userId);
    return fresh;
  }

  /**
   * `keys rotate` companion: re-encrypts every webhook secret under the keyring's current key, so old keys can be
   * removed. Secrets that cannot be decrypted are reported and left alone (the user can rotate them).
   */
  async reencryptSecrets(keyring: Keyring): Promise<SecretRotationReport> {
    const report: SecretRotationReport = { scanned: 0, reencrypted: 0, failed: [] };
    await this.db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom('notification_secrets')
        .select(['user_id', 'secret_ciphertext'])
        .where('key_id', '<>', keyring.currentKeyId)
        .forUpdate()
        .execute();
      for (const row of rows) {
        report.scanned += 1;
        let fresh: string;
        try {
          fresh = keyring.reencrypt(row.secret_ciphertext);
        } catch (err) {
          if (!isDomainError(err)) throw err;
          report.failed.push({ userId: row.user_id, code: err.code });
          continue;
        }
        await trx
          .updateTable('notification_secrets')
          .set({ secret_ciphertext: fresh, key_id: keyring.currentKeyId })
          .where('user_id', '=', row.user_id)
          .execute();
        report.reencrypted += 1;
      }
    });
    return report;
  }

  /**
   * Claims the delivery of a group on a channel: creates the row (attempt 1) or takes over a pending one (next
   * attempt). Undefined when the group was already delivered or refused for good on this channel: the at-most-once
   * guarantee.
   */
  async claim(userId: string, groupKey: string, channel: NotificationChannel): Promise<NotificationLogRow | undefined> {
    if (!isUuid(userId)) return undefined;
    return this.db
      .insertInto('notification_log')
      .values({ user_id: userId, group_key: groupKey, channel, status: 'pending', attempts: 1 })
      .onConflict((oc) =>
        oc
          .constraint('notification_log_group_key')
          .doUpdateSet({ attempts: sql<number>`notification_log.attempts + 1` })
          .where('notification_log.status', '=', 'pending'),
      )
      .returningAll()
      .executeTakeFirst();
  }

  async markSent(userId: string, id: string): Promise<void> {
    await this.db
      .updateTable('notification_log')
      .set({ status: 'sent', sent_at: sql<Date>`now()`, last_error: null })
      .where('user_id', '=', userId)
      .where('id', '=', id)
      .execute();
  }

  /** `permanent` ends the row (never retried for this occurrence); otherwise it stays pending for the next attempt. */
  async markFailed(userId: string, id: string, error: string, permanent: boolean): Promise<void> {
    await this.db
      .updateTable('notification_log')
      .set({ last_error: error.slice(0, MAX_ERROR), ...(permanent ? { status: 'failed' as const } : {}) })
      .where('user_id', '=', userId)
      .where('id', '=', id)
      .execute();
  }

  /** The user's delivery log, oldest first (settings page, tests). */
  async listLog(userId: string): Promise<NotificationLogRow[]> {
    if (!isUuid(userId)) return [];
    return this.db
      .selectFrom('notification_log')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .orderBy('group_key')
      .orderBy('channel')
      .execute();
  }

  /**
   * Forgets the groups that are no longer open, so that their recurrence notifies again; returns how many rows went.
   */
  async resolveGroups(userId: string, openGroupKeys: readonly string[]): Promise<number> {
    if (!isUuid(userId)) return 0;
    let q = this.db.deleteFrom('notification_log').where('user_id', '=', userId);
    if (openGroupKeys.length > 0) q = q.where('group_key', 'not in', [...openGroupKeys]);
    const res = await q.executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  private requireKeyring(): Keyring {
    if (this.keyring === null) {
      throw new ConfigError('No encryption keys configured (TRIBUTARY_ENCRYPTION_KEYS); cannot keep webhook secrets', {
        key: 'TRIBUTARY_ENCRYPTION_KEYS',
      });
    }
    return this.keyring;
  }
}

function newSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64url')}`;
}
