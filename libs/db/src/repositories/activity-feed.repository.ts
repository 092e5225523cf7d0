import { type Kysely } from 'kysely';
import { type DB, type PresenceState } from '../schema';

export interface FeedPresence {
  connectionId: string;
  service: string;
  state: PresenceState;
  reasonCode: string | null;
}

export interface FeedEntry {
  id: string;
  name: string | null;
  type: string;
  startAt: Date;
  distance: number | null;
  /** Where the activity is (or is not, and why), one entry per connection the sync has an opinion on. */
  presence: FeedPresence[];
}

/** The dashboard's "recent activity" feed: the user's latest activities and where each one went. */
export class ActivityFeedRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async recent(userId: string, limit = 10): Promise<FeedEntry[]> {
    const records = await this.db
      .selectFrom('activity_records')
      .select(['id', 'name', 'type', 'start_at', 'distance'])
      .where('user_id', '=', userId)
      .orderBy('start_at', 'desc')
      .orderBy('id')
      .limit(Math.max(1, Math.min(limit, 100)))
      .execute();
    if (records.length === 0) return [];
    const presence = await this.db
      .selectFrom('activity_presence as p')
      .innerJoin('connections as c', (join) =>
        join.onRef('c.id', '=', 'p.connection_id').onRef('c.user_id', '=', 'p.user_id'),
      )
      .select(['p.record_id', 'p.connection_id', 'p.state', 'p.reason_code', 'c.service'])
      .where('p.user_id', '=', userId)
      .where(
        'p.record_id',
        'in',
        records.map((r) => r.id),
      )
      .orderBy('c.service')
      .execute();
    return records.map((r) => ({
      id: r.id,
      name: r.name,
      type: r.type,
      startAt: r.start_at,
      distance: r.distance,
      presence: presence
        .filter((p) => p.record_id === r.id)
        .map((p) => ({ connectionId: p.connection_id, service: p.service, state: p.state, reasonCode: p.reason_code })),
    }));
  }
}
