import { PassThrough } from 'node:stream';
import { sql } from 'kysely';
import { migrationNames } from '@tributary/db';
import { runDb } from '../../apps/cli/src/db.command';
import { buildProgram } from '../../apps/cli/src/program';
import { createScratchDatabase, type ScratchDb } from './support/test-db';

jest.setTimeout(30_000);

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

async function tableExists(scratch: ScratchDb, name: string): Promise<boolean> {
  const { rows } = await sql<{ found: boolean }>`select to_regclass(${name}) is not null as found`.execute(scratch.db);
  return rows[0]?.found === true;
}

describe('tributary db', () => {
  let scratch: ScratchDb;
  beforeAll(async () => {
    scratch = await createScratchDatabase({ migrate: false });
  });
  afterAll(() => scratch.drop());

  it('should be registered on the program', () => {
    const db = buildProgram().commands.find((c) => c.name() === 'db');
    expect(db?.commands.map((c) => c.name()).sort()).toEqual(['migrate', 'rollback']);
  });

  it('should apply every migration once, then report nothing to do', async () => {
    const env = { DATABASE_URL: scratch.url };
    const first = capture();
    const outcome = await runDb('migrate', {}, env, first.stream);
    expect(outcome.applied).toEqual(migrationNames());
    expect(first.text()).toContain(`Applied ${migrationNames().length} migration(s) on the server database`);
    expect(await tableExists(scratch, 'users')).toBe(true);

    const second = capture();
    expect((await runDb('migrate', { json: true }, env, second.stream)).applied).toEqual([]);
    expect(JSON.parse(second.text())).toMatchObject({ action: 'migrate', database: 'server', applied: [] });
  });

  it('should roll every migration back with --all', async () => {
    const out = capture();
    const outcome = await runDb('rollback', { all: true }, { DATABASE_URL: scratch.url }, out.stream);
    expect(outcome.applied).toEqual([...migrationNames()].reverse());
    expect(await tableExists(scratch, 'users')).toBe(false);
  });

  it('should name the bad key when the configuration is wrong', async () => {
    await expect(runDb('migrate', {}, { DATABASE_URL: 'not-a-url' })).rejects.toThrow(/DATABASE_URL/);
  });
});
