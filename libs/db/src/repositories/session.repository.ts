import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { type DB, type SessionRow, type UserRole } from '../schema';
import { isUuid } from './pg-errors.util';

/** A session as the web app sees it; the CSRF secret is the synchronizer token forms and scripts echo back. */
export interface SessionView {
  /** Hash of the cookie token (the row id); safe to log. */
  id: string;
  userId: string | null;
  csrfSecret: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  /**
   * The signed-in user's role as of this request, for showing admin navigation; only findByToken reads it. Access
   * checks read the role again themselves (AdminGuard), so a stale value here never grants anything.
   */
  userRole?: UserRole;
}

/** A new session: `token` goes into the cookie and nowhere else. */
export interface IssuedSession {
  token: string;
  session: SessionView;
}

const TOKEN_BYTES = 32;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** The stored id of a cookie token. */
export function hashSessionToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function randomToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

function toView(row: SessionRow): SessionView {
  return {
    id: row.id,
    userId: row.user_id,
    csrfSecret: row.csrf_secret,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
  };
}

/** Compares two secrets in constant time (different lengths are simply unequal). */
export function secretsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Server-side website sessions. Lookups go by the hash of the cookie token, so knowing a session id (from a log) is
 * not enough to use it, and every method that acts for a user also checks the user id.
 */
export class SessionRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /** Creates a session (anonymous when userId is null) valid for ttlMs. */
  async create(userId: string | null, ttlMs: number): Promise<IssuedSession> {
    const token = randomToken();
    const row = await this.db
      .insertInto('sessions')
      .values({
        id: hashSessionToken(token),
        user_id: userId,
        csrf_secret: randomToken(),
        expires_at: new Date(Date.now() + ttlMs),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return { token, session: toView(row) };
  }

  /** The live session of a cookie token; undefined for unknown, malformed or expired tokens. */
  async findByToken(token: string): Promise<SessionView | undefined> {
    if (!TOKEN_SHAPE.test(token)) return undefined;
    const row = await this.db
      .selectFrom('sessions')
      .leftJoin('users', 'users.id', 'sessions.user_id')
      .selectAll('sessions')
      .select('users.role as user_role')
      .where('sessions.id', '=', hashSessionToken(token))
      .where('sessions.expires_at', '>', sql<Date>`now()`)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    const { user_role: role, ...session } = row;
    return role === null ? toView(session) : { ...toView(session), userRole: role };
  }

  /** Sliding expiry: records activity and pushes the expiry out. */
  async touch(sessionId: string, ttlMs: number): Promise<void> {
    await this.db
      .updateTable('sessions')
      .set({ last_seen_at: sql<Date>`now()`, expires_at: new Date(Date.now() + ttlMs) })
      .where('id', '=', sessionId)
      .where('expires_at', '>', sql<Date>`now()`)
      .execute();
  }

  /**
   * Sign-in: replaces the old session (if any) by a fresh one for the user, with a new token and a new CSRF secret,
   * in one transaction, so a token planted before sign-in (session fixation) is worthless afterwards.
   */
  async rotate(oldSessionId: string | null, userId: string, ttlMs: number): Promise<IssuedSession> {
    return this.db.transaction().execute(async (trx) => {
      if (oldSessionId !== null) await trx.deleteFrom('sessions').where('id', '=', oldSessionId).execute();
      return new SessionRepository(trx).create(userId, ttlMs);
    });
  }

  /** Sign-out. */
  async delete(sessionId: string): Promise<boolean> {
    const res = await this.db.deleteFrom('sessions').where('id', '=', sessionId).executeTakeFirst();
    return res.numDeletedRows > 0n;
  }

  /** Every session of a user (an account page could list them); scoped by user. */
  async listForUser(userId: string): Promise<SessionView[]> {
    if (!isUuid(userId)) return [];
    const rows = await this.db
      .selectFrom('sessions')
      .selectAll()
      .where('user_id', '=', userId)
      .where('expires_at', '>', sql<Date>`now()`)
      .orderBy('created_at', 'desc')
      .execute();
    return rows.map(toView);
  }

  /** Ends one of the user's sessions; another user's session id is "not found" (false). */
  async deleteForUser(userId: string, sessionId: string): Promise<boolean> {
    if (!isUuid(userId)) return false;
    const res = await this.db
      .deleteFrom('sessions')
      .where('id', '=', sessionId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return res.numDeletedRows > 0n;
  }

  /** Signs the user out everywhere. */
  async deleteAllForUser(userId: string): Promise<number> {
    if (!isUuid(userId)) return 0;
    const res = await this.db.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  /** Remembers a pending OAuth state (only its hash) for one service; a newer one replaces it. */
  async setOAuthState(sessionId: string, service: string, state: string, ttlMs: number): Promise<void> {
    await this.db
      .updateTable('sessions')
      .set({
        oauth_state_hash: hashSessionToken(state),
        oauth_service: service,
        oauth_state_expires_at: new Date(Date.now() + ttlMs),
      })
      .where('id', '=', sessionId)
      .execute();
  }

  /**
   * Checks and consumes the pending OAuth state in one statement: true only for the session that started the flow,
   * the same service, the same state, before it expires, and only once.
   */
  async consumeOAuthState(sessionId: string, service: string, state: string): Promise<boolean> {
    const row = await this.db
      .updateTable('sessions')
      .set({ oauth_state_hash: null, oauth_service: null, oauth_state_expires_at: null })
      .where('id', '=', sessionId)
      .where('oauth_service', '=', service)
      .where('oauth_state_hash', '=', hashSessionToken(state))
      .where('oauth_state_expires_at', '>', sql<Date>`now()`)
      .returning('id')
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Parks the encrypted state of a login waiting for a verification code; a newer one replaces it. */
  async setPendingLogin(sessionId: string, service: string, ciphertext: string, ttlMs: number): Promise<void> {
    await this.db
      .updateTable('sessions')
      .set({
        pending_login_service: service,
        pending_login_ciphertext: ciphertext,
        pending_login_expires_at: new Date(Date.now() + ttlMs),
      })
      .where('id', '=', sessionId)
      .execute();
  }

  /** Takes (and clears) the parked login of this session and service, if it has not expired. */
  async takePendingLogin(sessionId: string, service: string): Promise<string | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('sessions')
        .select('pending_login_ciphertext')
        .where('id', '=', sessionId)
        .where('pending_login_service', '=', service)
        .where('pending_login_expires_at', '>', sql<Date>`now()`)
        .forUpdate()
        .executeTakeFirst();
      await trx
        .updateTable('sessions')
        .set({ pending_login_service: null, pending_login_ciphertext: null, pending_login_expires_at: null })
        .where('id', '=', sessionId)
        .where('pending_login_service', '=', service)
        .execute();
      return row?.pending_login_ciphertext ?? undefined;
    });
  }

  /** Housekeeping (system-wide): drops expired sessions. */
  async deleteExpired(limit = 1000): Promise<number> {
    const res = await this.db
      .deleteFrom('sessions')
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('sessions')
          .select('id')
          .where('expires_at', '<=', sql<Date>`now()`)
          .limit(limit),
      )
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}
