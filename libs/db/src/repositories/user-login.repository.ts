import { type Kysely, sql } from 'kysely';
import { NotFoundError } from '@tributary/common';
import { type DB } from '../schema';
import { isUniqueViolation, isUuid } from './pg-errors.util';
import { EmailTakenError } from './user.repository';

export interface UserLogin {
  userId: string;
  email: string | null;
  passwordHash: string | null;
}

/** The optional email + password login on top of sign-in by connecting a service. */
export class UserLoginRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async get(userId: string): Promise<UserLogin> {
    if (!isUuid(userId)) throw new NotFoundError('user', userId);
    const row = await this.db
      .selectFrom('users')
      .select(['id', 'email', 'password_hash'])
      .where('id', '=', userId)
      .executeTakeFirst();
    if (row === undefined) throw new NotFoundError('user', userId);
    return { userId: row.id, email: row.email, passwordHash: row.password_hash };
  }

  /** Case-insensitive, like the unique index on lower(email). Only users who set a password can log in. */
  async findByEmail(email: string): Promise<UserLogin | undefined> {
    const row = await this.db
      .selectFrom('users')
      .select(['id', 'email', 'password_hash'])
      .where(sql<string>`lower(email)`, '=', email.trim().toLowerCase())
      .where('password_hash', 'is not', null)
      .executeTakeFirst();
    return row === undefined ? undefined : { userId: row.id, email: row.email, passwordHash: row.password_hash };
  }

  /** Sets email and password hash together; null for both turns password login off. */
  async set(userId: string, email: string | null, passwordHash: string | null): Promise<void> {
    if (!isUuid(userId)) throw new NotFoundError('user', userId);
    try {
      const res = await this.db
        .updateTable('users')
        .set({ email, password_hash: passwordHash })
        .where('id', '=', userId)
        .executeTakeFirst();
      if (res.numUpdatedRows === 0n) throw new NotFoundError('user', userId);
    } catch (err) {
      if (isUniqueViolation(err, 'users_email_key')) throw new EmailTakenError();
      throw err;
    }
  }
}
