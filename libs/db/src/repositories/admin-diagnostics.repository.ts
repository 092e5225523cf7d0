import { type Kysely, sql } from 'kysely';
import { ValidationError } from '@tributary/common';
import { type DB, type UserRole } from '../schema';
import { isUuid } from './pg-errors.util';

export interface UserSearchHit {
  id: string;
  email: string | null;
  role: UserRole;
  created_at: Date;
  last_sync_at: Date | null;
  lease_owner: string | null;
  lease_expires_at: Date | null;
  /** Services the user has connected, sorted. */
  services: string[];
}

export interface ErrorGroup {
  /** Null for account-scope errors, which belong to no connection. */
  service: string | null;
  code: string;
  /** Distinct open error rows in the group. */
  errors: number;
  users: number;
  /** Sum of the rows' occurrence counts. */
  occurrences: number;
  blocking: boolean;
  last_at: Date;
  /** Up to three distinct messages, trimmed. */
  examples: string[];
}

export interface SyncDurationBucket {
  /** Start of the bucket. */
  at: Date;
  runs: number;
  failed: number;
  /** Seconds from start to finish. */
  p50: number;
  p95: number;
}

export interface RunOverview {
  queued: number;
  running: number;
  /** Running runs whose last heartbeat is older than `staleBefore`. */
  stale: number;
  leasesHeld: number;
  leasesExpired: number;
}

const EXAMPLE_LENGTH = 300;
/** A graph has at most this many points; a longer window gets wider buckets from the caller. */
const MAX_BUCKETS = 2000;

/**
 * System-wide reads for the admin pages (errors across users, durations, user search). Only the admin module calls
 * these, behind the admin guard and the audit log; per-user data on the detail page comes from the user-scoped
 * repositories.
 */
export class AdminDiagnosticsRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /**
   * Finds users by id, by connection id, by email (case-insensitive prefix) or by the account id at a service
   * (exact). The query is what an admin pasted from a support email or a provider's dashboard.
   */
  async searchUsers(query: string, limit = 25): Promise<UserSearchHit[]> {
    const q = query.trim();
    if (q === '') return [];
    const max = Math.max(1, Math.min(100, limit));
    const emailPrefix = `${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const rows = await this.db
      .selectFrom('users as u')
      .select([
        'u.id',
        'u.email',
        'u.role',
        'u.created_at',
        'u.last_sync_at',
        'u.lease_owner',
        'u.lease_expires_at',
        sql<string[]>`coalesce(
          (SELECT array_agg(c.service ORDER BY c.service) FROM connections c WHERE c.user_id = u.id),
          '{}'::text[])`.as('services'),
      ])
      .where((eb) =>
        eb.or([
          ...(isUuid(q)
            ? [
                eb('u.id', '=', q),
                eb.exists(
                  eb
                    .selectFrom('connections as c')
                    .select('c.id')
                    .where('c.id', '=', q)
                    .whereRef('c.user_id', '=', 'u.id'),
                ),
              ]
            : []),
          eb(sql<string>`lower(u.email)`, 'like', emailPrefix),
          eb.exists(
            eb
              .selectFrom('connections as c')
              .select('c.id')
              .where('c.external_user_id', '=', q)
              .whereRef('c.user_id', '=', 'u.id'),
          ),
        ]),
      )
      .orderBy('u.email')
      .orderBy('u.id')
      .limit(max)
      .execute();
    return rows;
  }

  /** Open sync errors grouped by service and code, the biggest groups first. */
  async errorGroups(limit = 50): Promise<ErrorGroup[]> {
    const rows = await this.db
      .selectFrom('sync_errors as e')
      .leftJoin('connections as c', 'c.id', 'e.connection_id')
      .where('e.cleared_at', 'is', null)
      .groupBy(['c.service', 'e.code'])
      .select([
        'c.service',
        'e.code',
        sql<string>`count(*)`.as('errors'),
        sql<string>`count(DISTINCT e.user_id)`.as('users'),
        sql<string>`sum(e.count)`.as('occurrences'),
        sql<boolean>`bool_or(e.blocking)`.as('blocking'),
        sql<Date>`max(e.last_at)`.as('last_at'),
        sql<string[]>`(array_agg(DISTINCT left(e.message, ${sql.lit(EXAMPLE_LENGTH)})))[1:3]`.as('examples'),
      ])
      .orderBy(sql`sum(e.count)`, 'desc')
      .orderBy('e.code')
      .limit(Math.max(1, Math.min(500, limit)))
      .execute();
    return rows.map((r) => ({
      service: r.service,
      code: r.code,
      errors: Number(r.errors),
      users: Number(r.users),
      occurrences: Number(r.occurrences),
      blocking: r.blocking,
      last_at: r.last_at,
      examples: r.examples,
    }));
  }

  /** p50/p95 of finished runs' durations (start to finish) per bucket of `bucketSeconds`, oldest first. */
  async syncDurations(opts: { from: Date; to: Date; bucketSeconds: number }): Promise<SyncDurationBucket[]> {
    const span = (opts.to.getTime() - opts.from.getTime()) / 1000;
    if (!(opts.bucketSeconds >= 60) || !(span > 0) || span / opts.bucketSeconds > MAX_BUCKETS) {
      throw new ValidationError('The duration graph needs a window of at most 2000 buckets of a minute or more', {
        bucketSeconds: opts.bucketSeconds,
      });
    }
    const bucket = sql<number>`${Math.round(opts.bucketSeconds)}::double precision`;
    const rows = await this.db
      .selectFrom('sync_runs')
      .where('finished_at', '>=', opts.from)
      .where('finished_at', '<', opts.to)
      .where('started_at', 'is not', null)
      .select([
        sql<Date>`to_timestamp(floor(extract(epoch FROM finished_at) / ${bucket}) * ${bucket})`.as('at'),
        sql<string>`count(*)`.as('runs'),
        sql<string>`count(*) FILTER (WHERE status = 'failed')`.as('failed'),
        sql<number>`percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - started_at))`.as(
          'p50',
        ),
        sql<number>`percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - started_at))`.as(
          'p95',
        ),
      ])
      .groupBy(sql`1`)
      .orderBy(sql`1`)
      .execute();
    return rows.map((r) => ({
      at: r.at,
      runs: Number(r.runs),
      failed: Number(r.failed),
      p50: Number(r.p50),
      p95: Number(r.p95),
    }));
  }

  /** Sync runs and leases right now, across every user. */
  async runOverview(staleBefore: Date): Promise<RunOverview> {
    const runs = await this.db
      .selectFrom('sync_runs')
      .where('status', 'in', ['queued', 'running'])
      .select([
        sql<string>`count(*) FILTER (WHERE status = 'queued')`.as('queued'),
        sql<string>`count(*) FILTER (WHERE status = 'running')`.as('running'),
        sql<string>`count(*) FILTER (WHERE status = 'running' AND heartbeat_at < ${staleBefore})`.as('stale'),
      ])
      .executeTakeFirstOrThrow();
    const leases = await this.db
      .selectFrom('users')
      .where('lease_expires_at', 'is not', null)
      .select([
        sql<string>`count(*) FILTER (WHERE lease_expires_at >= now())`.as('held'),
        sql<string>`count(*) FILTER (WHERE lease_expires_at < now())`.as('expired'),
      ])
      .executeTakeFirstOrThrow();
    return {
      queued: Number(runs.queued),
      running: Number(runs.running),
      stale: Number(runs.stale),
      leasesHeld: Number(leases.held),
      leasesExpired: Number(leases.expired),
    };
  }
}
