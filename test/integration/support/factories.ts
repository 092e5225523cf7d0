import { randomBytes, randomUUID } from 'node:crypto';
import { type Kysely } from 'kysely';
import {
  type ActivityRecordRow,
  type ConnectionRow,
  type DB,
  type NewUserRow,
  type UserRow,
  type ConnectionStatus,
} from '@tributary/db';

/** A short random token, unique enough to keep parallel tests and repeated runs apart. */
export function unique(prefix = 'x'): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

/** Inserts a user with a unique email. */
export async function newUser(db: Kysely<DB>, overrides: Partial<NewUserRow> = {}): Promise<UserRow> {
  return db
    .insertInto('users')
    .values({ email: `${unique('user')}@example.test`, ...overrides })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export interface NewConnectionOverrides {
  service?: string;
  externalUserId?: string;
  displayName?: string | null;
  status?: ConnectionStatus;
  config?: Record<string, unknown>;
  /** Raw column values; use ConnectionRepository.connect to store real encrypted credentials. */
  credentialsCiphertext?: string | null;
  credentialsKeyId?: string | null;
}

/** Inserts a connection for the user; the service defaults to a unique fake one so a user can have many. */
export async function newConnection(
  db: Kysely<DB>,
  userId: string,
  o: NewConnectionOverrides = {},
): Promise<ConnectionRow> {
  return db
    .insertInto('connections')
    .values({
      user_id: userId,
      service: o.service ?? `svc-${randomBytes(4).toString('hex')}`,
      external_user_id: o.externalUserId ?? unique('acct'),
      display_name: o.displayName ?? null,
      status: o.status,
      config: o.config ?? {},
      credentials_ciphertext: o.credentialsCiphertext ?? null,
      credentials_key_id: o.credentialsKeyId ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Inserts an activity record with a unique uid, starting an hour ago unless told otherwise. */
export async function newActivityRecord(
  db: Kysely<DB>,
  userId: string,
  o: { uid?: string; startAt?: Date; type?: string; name?: string } = {},
): Promise<ActivityRecordRow> {
  const uid = o.uid ?? randomUUID().replace(/-/g, '');
  const startAt = o.startAt ?? new Date(Date.now() - 3_600_000);
  return db
    .insertInto('activity_records')
    .values({
      user_id: userId,
      uid,
      uids: [uid],
      start_at: startAt,
      end_at: new Date(startAt.getTime() + 1_800_000),
      type: o.type ?? 'Running',
      name: o.name ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}
