import { type Kysely, sql } from 'kysely';
import { type DB, type UserRole, type UserRow, isUuid } from '@tributary/db';
import { CliUsageError } from './cli.error';

/**
 * Finds the user a command names: a user id, an email address (case-insensitive), or `service:externalUserId` of
 * one of their connections (`strava:12345`, `garmin_connect:me@example.com`). Unknown is a usage error (exit 2).
 */
export async function resolveUser(db: Kysely<DB>, ref: string): Promise<UserRow> {
  const value = ref.trim();
  if (value === '') throw new CliUsageError('a user is required: a user id, an email or service:externalUserId');
  let user: UserRow | undefined;
  if (isUuid(value)) {
    user = await db.selectFrom('users').selectAll().where('id', '=', value).executeTakeFirst();
  } else if (value.includes('@') && !/^[a-z][a-z0-9_-]*:/.test(value)) {
    user = await db
      .selectFrom('users')
      .selectAll()
      .where(sql<string>`lower(email)`, '=', value.toLowerCase())
      .executeTakeFirst();
  } else {
    const colon = value.indexOf(':');
    if (colon <= 0 || colon === value.length - 1) {
      throw new CliUsageError(`"${value}" is not a user id, an email or service:externalUserId`);
    }
    const service = value.slice(0, colon);
    const external = value.slice(colon + 1);
    // Rows may spell the service either way (garmin-connect / garmin_connect).
    const spellings = [...new Set([service, service.replace(/-/g, '_'), service.replace(/_/g, '-')])];
    user = await db
      .selectFrom('users')
      .selectAll('users')
      .innerJoin('connections', 'connections.user_id', 'users.id')
      .where('connections.service', 'in', spellings)
      .where('connections.external_user_id', '=', external)
      .executeTakeFirst();
  }
  if (user === undefined) throw new CliUsageError(`no such user: ${value}`);
  return user;
}

export interface UserListEntry {
  id: string;
  email: string | null;
  role: UserRole;
  createdAt: string;
  lastSyncAt: string | null;
  nextSyncAt: string | null;
  connections: string[];
  activities: number;
}

/** Every user with their connected services and activity count, oldest first. */
export async function listUsers(db: Kysely<DB>): Promise<UserListEntry[]> {
  const rows = await db
    .selectFrom('users as u')
    .select((eb) => [
      'u.id',
      'u.email',
      'u.role',
      'u.created_at',
      'u.last_sync_at',
      'u.next_sync_at',
      eb
        .selectFrom('connections as c')
        .select(sql<string[]>`coalesce(array_agg(c.service ORDER BY c.service), '{}')`.as('s'))
        .whereRef('c.user_id', '=', 'u.id')
        .as('services'),
      eb
        .selectFrom('activity_records as a')
        .select(sql<string>`count(*)`.as('n'))
        .whereRef('a.user_id', '=', 'u.id')
        .as('activities'),
    ])
    .orderBy('u.created_at')
    .orderBy('u.id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    email: r.email,
    role: r.role,
    createdAt: r.created_at.toISOString(),
    lastSyncAt: r.last_sync_at?.toISOString() ?? null,
    nextSyncAt: r.next_sync_at?.toISOString() ?? null,
    connections: r.services ?? [],
    activities: Number(r.activities ?? 0),
  }));
}

/** Changes a user's role and records who did it (the CLI operator: no actor user) in the audit log. */
export async function setUserRole(db: Kysely<DB>, userId: string, role: UserRole): Promise<UserRole> {
  return db.transaction().execute(async (trx) => {
    const before = await trx.selectFrom('users').select('role').where('id', '=', userId).forUpdate().executeTakeFirst();
    if (before === undefined) throw new CliUsageError(`no such user: ${userId}`);
    if (before.role !== role) {
      await trx.updateTable('users').set({ role }).where('id', '=', userId).execute();
      await trx
        .insertInto('audit_log')
        .values({
          action: 'user.role',
          target_user_id: userId,
          details: { from: before.role, to: role, via: 'cli' },
        })
        .execute();
    }
    return before.role;
  });
}
