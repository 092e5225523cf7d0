import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { createDatabase, openDatabase, startEmbeddedPostgres } from '@tributary/db';
import { freePort } from './support/test-env';
import { testTarget } from './support/test-db';

const execFileAsync = promisify(execFile);
const repoRoot = resolve(__dirname, '..', '..');

// These start their own engines; they concern the embedded engine only, so the server project skips them.
const describeEmbedded = testTarget() === 'embedded' ? describe : describe.skip;

jest.setTimeout(60_000);

describeEmbedded('embedded Postgres engine', () => {
  let dataDir: string;
  let port: number;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tributary-emb-'));
    port = await freePort();
  });
  afterEach(async () => {
    // Whatever a failed test left running: SIGINT is Postgres's fast shutdown.
    const pidText = await readFile(join(dataDir, 'pg', 'postmaster.pid'), 'utf8').catch(() => '');
    const pid = Number.parseInt(pidText.split('\n')[0] ?? '', 10);
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGINT');
        for (let i = 0; i < 100; i += 1) {
          process.kill(pid, 0);
          await new Promise((r) => setTimeout(r, 50));
        }
      } catch {
        // Gone: that is what we wanted.
      }
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  it('should keep data in the data directory across a stop and a start', async () => {
    const config = { dataDir, embeddedPort: port, poolSize: 2 };
    const first = await openDatabase(config, { durable: false });
    expect(first.kind).toBe('embedded');
    await first.db.insertInto('stats_samples').values({ metric: 'persist', value: 42 }).execute();
    await first.close();
    await expect(first.ping()).rejects.toBeDefined();

    const second = await openDatabase(config, { durable: false });
    try {
      const row = await second.db
        .selectFrom('stats_samples')
        .select('value')
        .where('metric', '=', 'persist')
        .executeTakeFirst();
      expect(row?.value).toBe(42);
    } finally {
      await second.close();
    }
  });

  it('should start again after the postmaster was killed with SIGKILL', async () => {
    const engine = await startEmbeddedPostgres({ dataDir, port, durable: false });
    const pid = Number.parseInt((await readFile(join(dataDir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0]!, 10);
    process.kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    const again = await startEmbeddedPostgres({ dataDir, port, durable: false });
    expect(again.started).toBe(true);
    expect(again.url).toBe(engine.url);
    const database = await createDatabase({ url: again.url, dataDir, embeddedPort: port, poolSize: 1 });
    await expect(database.ping()).resolves.toBeUndefined();
    await database.close();
    await again.stop({ force: true });
  });

  it('should start after a stale postmaster.pid naming a recycled, non-postgres pid', async () => {
    const engine = await startEmbeddedPostgres({ dataDir, port, durable: false });
    await engine.stop({ force: true });
    // Our own pid: alive, but not a postgres process.
    await writeFile(join(dataDir, 'pg', 'postmaster.pid'), `${process.pid}\n${join(dataDir, 'pg')}\n`);
    const again = await startEmbeddedPostgres({ dataDir, port, durable: false });
    expect(again.started).toBe(true);
    await again.stop({ force: true });
  });

  it('should serve two processes at once that both start it on a fresh data directory', async () => {
    const script = join(__dirname, 'support', 'embedded-client.script.ts');
    const run = (name: string, peer: string) =>
      execFileAsync(
        process.execPath,
        ['--require', join(repoRoot, 'scripts', 'register-ts.js'), script, dataDir, String(port), name, peer],
        { cwd: repoRoot, timeout: 50_000 },
      );
    const [web, worker] = await Promise.all([run('web', 'worker'), run('worker', 'web')]);
    const results = [web, worker].map((r) => JSON.parse(r.stdout.trim()) as { kind: string; sawPeer: boolean });
    expect(results).toEqual([
      expect.objectContaining({ kind: 'embedded', sawPeer: true }),
      expect.objectContaining({ kind: 'embedded', sawPeer: true }),
    ]);
    // The last one out stopped the engine.
    const engine = await startEmbeddedPostgres({ dataDir, port, durable: false });
    expect(engine.started).toBe(true);
    const database = await createDatabase({ url: engine.url, dataDir, embeddedPort: port, poolSize: 1 });
    const { rows } = await sql<{ n: string }>`SELECT count(*) AS n FROM stats_samples`.execute(database.db);
    expect(Number(rows[0]?.n)).toBe(2);
    await database.close();
    await engine.stop({ force: true });
  });
});
