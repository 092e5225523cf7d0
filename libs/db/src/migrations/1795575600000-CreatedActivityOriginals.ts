import { type Kysely, sql } from 'kysely';

/*
 * The file each activity came from, kept so downloads and exports hand out what the source supplied instead of a
 * re-encoding. One per record. `derived` marks a FIT the hub encoded itself because the source had no file (Strava
 * streams, manual entries), so a later real file may replace it. The source connection is forgotten (not the file)
 * when that connection is removed: the user still owns the activity.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE activity_originals (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_id uuid NOT NULL,
      activity_record_id uuid NOT NULL,
      format text NOT NULL CHECK (format IN ('fit', 'tcx', 'gpx', 'pwx')),
      bytes bytea NOT NULL CHECK (octet_length(bytes) > 0),
      sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
      size integer NOT NULL CHECK (size > 0),
      source_connection_id uuid,
      derived boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT activity_originals_record_key UNIQUE (activity_record_id),
      FOREIGN KEY (activity_record_id, user_id) REFERENCES activity_records (id, user_id) ON DELETE CASCADE,
      FOREIGN KEY (source_connection_id, user_id) REFERENCES connections (id, user_id)
        ON DELETE SET NULL (source_connection_id),
      CHECK (size = octet_length(bytes))
    );
    CREATE INDEX activity_originals_user_idx ON activity_originals (user_id);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE activity_originals;`.execute(db);
}
