import { type Kysely, sql } from 'kysely';
import { NotFoundError, ValidationError } from '@tributary/common';
import { DEFAULT_USER_SETTINGS, type DB, type UserRole, type UserRow, type UserSettings } from '../schema';
import { isUniqueViolation, isUuid } from './pg-errors.util';

export interface NewUser {
  email?: string | null;
  passwordHash?: string | null;
  role?: UserRole;
  settings?: Partial<UserSettings>;
}

export interface Lease {
  userId: string;
  owner: string;
  expiresAt: Date;
}

export class EmailTakenError extends ValidationError {
  constructor() {
    super('That email address is already registered', { field: 'email' });
  }
}

/** Fills in defaults for settings keys a stored document lacks (documents written by older versions). */
export function resolveSettings(stored: Partial<UserSettings>): UserSettings {
  return {
    ...DEFAULT_USER_SETTINGS,
    ...stored,
    notifications: { ...DEFAULT_USER_SETTINGS.notifications, ...stored.notifications },
  };
}

/** Accounts, their sync schedule, and the per-user sync lease. */
export class UserRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async create(input: NewUser = {}): Promise<UserRow> {
    try {
      return await this.db
        .insertInto('users')
        .values({
          email: input.email ?? null,
          password_hash: input.passwordHash ?? null,
          role: input.role,
          settings: input.settings ?? {},
        })
        .returningAll()
        .executeTakeFirstOrThrow();
    } catch (err) {
      if (isUniqueViolation(err, 'users_email_key')) throw new EmailTakenError();
      throw err;
    }
  }

  async findById(userId: string): Promise<UserRow | undefined> {
    if (!isUuid(userId)) return undefined;
    return this.db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
  }

  async getById(userId: string): Promise<UserRow> {
    const user = await this.findById(userId);
    if (user === undefined) throw new NotFoundError('user', userId);
    return user;
  }

  /** Case-insensitive, like the unique index. */
  async findByEmail(email: string): Promise<UserRow | undefined> {
    return this.db
      .selectFrom('users')
      .selectAll()
      .where(sql<string>`lower(email)`, '=', email.toLowerCase())
      .executeTakeFirst();
  }

  async getSettings(userId: string): Promise<UserSettings> {
    return resolveSettings((await this.getById(userId)).settings);
  }

  /** Merges the patch into the stored settings in one statement (no read-modify-write race). */
  async updateSettings(userId: string, patch: Partial<UserSettings>): Promise<UserSettings> {
    if (!isUuid(userId)) throw new NotFoundError('user', userId);
    const row = await this.db
      .updateTable('users')
      .set({ settings: sql`settings || ${JSON.stringify(patch)}::jsonb` })
      .where('id', '=', userId)
      .returning('settings')
      .executeTakeFirst();
    if (row === undefined) throw new NotFoundError('user', userId);
    return resolveSettings(row.settings);
  }

  async setPasswordHash(userId: string, passwordHash: string | null): Promise<void> {
    if (!isUuid(userId)) throw new NotFoundError('user', userId);
    const res = await this.db
      .updateTable('users')
      .set({ password_hash: passwordHash })
      .where('id', '=', userId)
      .executeTakeFirst();
    if (res.numUpdatedRows === 0n) throw new NotFoundError('user', userId);
  }

  /** Deletes the user and, by cascade, every connection, record, run, error and exclusion of theirs. */
  async delete(userId: string): Promise<boolean> {
    if (!isUuid(userId)) return false;
    const res = await this.db.deleteFrom('users').where('id', '=', userId).executeTakeFirst();
    return res.numDeletedRows > 0n;
  }

  /** Asks for a sync at `at` (now by default); `exhaustive` is sticky until a sync completes. */
  async scheduleSync(userId: string, opts: { at?: Date; exhaustive?: boolean } = {}): Promise<void> {
    if (!isUuid(userId)) throw new NotFoundError('user', userId);
    const res = await this.db
      .updateTable('users')
      .set((eb) => ({
        next_sync_at: opts.at ?? new Date(),
        next_sync_exhaustive: opts.exhaustive ? true : eb.ref('next_sync_exhaustive'),
      }))
      .where('id', '=', userId)
      .executeTakeFirst();
    if (res.numUpdatedRows === 0n) throw new NotFoundError('user', userId);
  }

  /** Records a finished sync and the next one (null = only on demand). */
  async markSynced(userId: string, next: { nextSyncAt: Date | null; nextExhaustive: boolean }): Promise<void> {
    if (!isUuid(userId)) throw new NotFoundError('user', userId);
    await this.db
      .updateTable('users')
      .set({ last_sync_at: new Date(), next_sync_at: next.nextSyncAt, next_sync_exhaustive: next.nextExhaustive })
      .where('id', '=', userId)
      .execute();
  }

  /** Scheduler query (system-wide): users whose next sync is due and who are not leased. */
  async findDueForSync(now: Date, limit: number): Promise<{ id: string; next_sync_exhaustive: boolean }[]> {
    return this.db
      .selectFrom('users')
      .select(['id', 'next_sync_exhaustive'])
      .where('next_sync_at', '<=', now)
      .where((eb) => eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<', now)]))
      .orderBy('next_sync_at')
      .limit(limit)
      .execute();
  }

  /**
   * Takes the user's sync lease if it is free, expired, or already ours (re-entrant), in one conditional UPDATE:
   * of two racing workers exactly one gets a row back. Uses the database clock so worker clock skew does not matter.
   */
  async acquireLease(userId: string, owner: string, ttlMs: number): Promise<Lease | null> {
    if (!isUuid(userId)) return null;
    const row = await this.db
      .updateTable('users')
      .set({
        lease_owner: owner,
        lease_expires_at: sql<Date>`now() + make_interval(secs => ${ttlMs / 1000})`,
      })
      .where('id', '=', userId)
      .where((eb) =>
        eb.or([
          eb('lease_expires_at', 'is', null),
          eb('lease_expires_at', '<', sql<Date>`now()`),
          eb('lease_owner', '=', owner),
        ]),
      )
      .returning(['id', 'lease_owner', 'lease_expires_at'])
      .executeTakeFirst();
    return row ? toLease(row) : null;
  }

  /** Extends a lease we still hold; null when it was lost (expired and taken by another worker). */
  async renewLease(userId: string, owner: string, ttlMs: number): Promise<Lease | null> {
    if (!isUuid(userId)) return null;
    const row = await this.db
      .updateTable('users')
      .set({ lease_expires_at: sql<Date>`now() + make_interval(secs => ${ttlMs / 1000})` })
      .where('id', '=', userId)
      .where('lease_owner', '=', owner)
      .returning(['id', 'lease_owner', 'lease_expires_at'])
      .executeTakeFirst();
    return row ? toLease(row) : null;
  }

  /** Gives the lease back; false when we no longer held it. */
  async releaseLease(userId: string, owner: string): Promise<boolean> {
    if (!isUuid(userId)) return false;
    const res = await this.db
      .updateTable('users')
      .set({ lease_owner: null, lease_expires_at: null })
      .where('id', '=', userId)
      .where('lease_owner', '=', owner)
      .executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }

  /** Watchdog query (system-wide): leases whose holder stopped renewing. */
  async findExpiredLeases(limit = 100): Promise<Lease[]> {
    const rows = await this.db
      .selectFrom('users')
      .select(['id', 'lease_owner', 'lease_expires_at'])
      .where('lease_expires_at', '<', sql<Date>`now()`)
      .orderBy('lease_expires_at')
      .limit(limit)
      .execute();
    return rows.map(toLease);
  }
}

function toLease(row: { id: string; lease_owner: string | null; lease_expires_at: Date | null }): Lease {
  return { userId: row.id, owner: row.lease_owner ?? '', expiresAt: row.lease_expires_at ?? new Date(0) };
}
