import { sql } from 'kysely';
import { migrateDown, migrateToLatest, migrationNames } from '@tributary/db';
import { createScratchDatabase, type ScratchDb } from './support/test-db';

async function tables(scratch: ScratchDb): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    SELECT table_name AS name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_name NOT LIKE 'kysely_%' ORDER BY 1`.execute(scratch.db);
  return rows.map((r) => r.name);
}

jest.setTimeout(30_000);

describe('migrations', () => {
  let scratch: ScratchDb;
  beforeAll(async () => {
    scratch = await createScratchDatabase();
  });
  afterAll(async () => {
    await scratch.drop();
  });

  it('should go up, all the way down, and up again', async () => {
    const first = await migrateToLatest(scratch.db);
    expect(first.applied).toEqual(migrationNames());
    const created = await tables(scratch);
    expect(created).toEqual(
      expect.arrayContaining(['users', 'connections', 'activity_records', 'activity_presence', 'sync_errors']),
    );

    expect((await migrateToLatest(scratch.db)).applied).toEqual([]);

    const down = await migrateDown(scratch.db, { all: true });
    expect(down.applied).toEqual([...migrationNames()].reverse());
    expect(await tables(scratch)).toEqual([]);

    await migrateToLatest(scratch.db);
    expect(await tables(scratch)).toEqual(created);
  });

  it('should be safe when two processes migrate at the same moment', async () => {
    const other = await createScratchDatabase();
    try {
      const results = await Promise.all([migrateToLatest(other.db), migrateToLatest(other.db)]);
      expect(results.flatMap((r) => r.applied).sort()).toEqual(migrationNames());
    } finally {
      await other.drop();
    }
  });
});
