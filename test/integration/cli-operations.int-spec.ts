import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { strFromU8, unzipSync } from 'fflate';
import { Redis } from 'ioredis';
import { Keyring } from '@tributary/common';
import { JobName, QueueName, jobIdFor } from '@tributary/queue';
import { Queue } from 'bullmq';
import { runActivitiesList } from '../../apps/cli/src/activities.command';
import { CliUsageError } from '../../apps/cli/src/cli.error';
import { DownloadIncompleteError, runDownload } from '../../apps/cli/src/download.command';
import { runExport } from '../../apps/cli/src/export.command';
import { buildProgram } from '../../apps/cli/src/program';
import { SyncNotSucceededError, runSync } from '../../apps/cli/src/sync.command';
import { runUsersList, runUsersRole } from '../../apps/cli/src/users.command';
import { newActivityRecord, newUser, unique } from './support/factories';
import {
  SANDBOX_DROPBOX_APP,
  SANDBOX_STRAVA_APP,
  type SandboxUser,
  type SandboxWorld,
  newStravaGarminUser,
  sandboxSpec,
  sandboxSyncService,
  seedRunAndRide,
  startSandboxWorld,
} from './support/sandbox-users';
import { createTestContext, testDatabaseUrl, type TestContext } from './support/test-db';

jest.setTimeout(90_000);

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const HOUR = 3_600_000;
const exec = promisify(execFile);

function capture(tty = false) {
  const stream = Object.assign(new PassThrough(), { isTTY: tty, columns: 80 });
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

describe('tributary operations CLI', () => {
  const key = { id: 'cli', key: randomBytes(32) };
  const prefix = `cli-test-${randomBytes(4).toString('hex')}`;
  let world: SandboxWorld;
  let ctx: TestContext;
  let env: NodeJS.ProcessEnv;
  let u: SandboxUser;
  let dir: string;

  beforeAll(async () => {
    world = await startSandboxWorld();
    ctx = createTestContext({ keyring: new Keyring([key]) });
    env = {
      DATABASE_URL: testDatabaseUrl(),
      REDIS_URL,
      TRIBUTARY_QUEUE_PREFIX: prefix,
      TRIBUTARY_ENCRYPTION_KEYS: `${key.id}:${key.key.toString('base64')}`,
      STRAVA_BASE_URL: world.sb.urls.strava,
      STRAVA_CLIENT_ID: SANDBOX_STRAVA_APP.clientId,
      STRAVA_CLIENT_SECRET: SANDBOX_STRAVA_APP.clientSecret,
      GARMIN_BASE_URL: world.sb.urls.garmin,
      GARMIN_SSO_URL: world.sb.urls.garminSso,
      GARMIN_REQUESTS_PER_SECOND: '1000',
      DROPBOX_BASE_URL: world.sb.urls.dropboxApi,
      DROPBOX_CONTENT_URL: world.sb.urls.dropboxContent,
      DROPBOX_NOTIFY_URL: world.sb.urls.dropboxNotify,
      DROPBOX_CLIENT_ID: SANDBOX_DROPBOX_APP.clientId,
      DROPBOX_CLIENT_SECRET: SANDBOX_DROPBOX_APP.clientSecret,
    };
    dir = await mkdtemp(join(tmpdir(), 'tributary-cli-'));

    u = await newStravaGarminUser(world, ctx, ctx.repos);
    const day = Date.now() - 6 * 24 * HOUR;
    await seedRunAndRide(world, u, day, 7 * HOUR);
    expect(
      await sandboxSyncService(world, ctx).run({ userId: u.userId, trigger: 'manual', workerId: 'cli-test' }),
    ).toMatchObject({
      status: 'succeeded',
    });
    // Recorded at Strava after the sync: the hub does not know it yet, and Garmin lacks it.
    await world.control('POST', '/strava/activities', {
      athlete: u.athleteId,
      spec: sandboxSpec(Date.now() - 2 * HOUR),
      notify: false,
    });
  });

  afterAll(async () => {
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
    await rm(dir, { recursive: true, force: true });
    await world?.close();
    await ctx?.close();
  });

  it('should register the commands', () => {
    const names = buildProgram().commands.map((c) => c.name());
    expect(names).toEqual(expect.arrayContaining(['users', 'sync', 'activities', 'download', 'export', 'convert']));
  });

  it('should list users and change a role by email or by a service account', async () => {
    const out = capture();
    const users = await runUsersList({ json: true }, { env, out: out.stream });
    expect(JSON.parse(out.text())).toEqual(users);
    const listed = users.find((x) => x.id === u.userId);
    expect(listed).toMatchObject({ role: 'user', connections: ['garmin_connect', 'strava'], activities: 2 });

    const byEmail = await runUsersRole(u.email.toUpperCase(), 'admin', {}, { env, out: capture().stream });
    expect(byEmail).toEqual({ userId: u.userId, from: 'user', to: 'admin' });
    const json = capture();
    await runUsersRole(`strava:${u.athleteId}`, 'user', { json: true }, { env, out: json.stream });
    expect(JSON.parse(json.text())).toEqual({ userId: u.userId, from: 'admin', to: 'user' });
    const audit = await ctx.db
      .selectFrom('audit_log')
      .select(['action', 'details'])
      .where('target_user_id', '=', u.userId)
      .orderBy('id')
      .execute();
    expect(audit.map((a) => a.details)).toEqual([
      { from: 'user', to: 'admin', via: 'cli' },
      { from: 'admin', to: 'user', via: 'cli' },
    ]);

    await expect(runUsersRole(u.userId, 'root', {}, { env })).rejects.toBeInstanceOf(CliUsageError);
    await expect(runUsersRole('nobody@example.test', 'admin', {}, { env })).rejects.toBeInstanceOf(CliUsageError);
    await expect(runUsersRole('strava:', 'admin', {}, { env })).rejects.toBeInstanceOf(CliUsageError);
  });

  it('should list from the database offline and live from the services online, showing what is missing where', async () => {
    const offline = capture();
    const synced = await runActivitiesList(u.userId, { offline: true, synced: true }, { env, out: offline.stream });
    expect(synced.activities).toHaveLength(2);
    expect(synced.activities.every((a) => a.presence.strava === 'present' && a.presence.garmin_connect === 'present'));
    expect(offline.text()).toContain('2 activities (offline, synced).');
    const offlineMissing = await runActivitiesList(
      u.userId,
      { offline: true, missing: true },
      { env, out: capture().stream },
    );
    expect(offlineMissing.activities).toEqual([]);

    const online = capture();
    const missing = await runActivitiesList(
      `garmin_connect:${u.garminUser}`,
      { missing: true, json: true },
      {
        env,
        out: online.stream,
      },
    );
    expect(JSON.parse(online.text())).toEqual(missing);
    expect(missing.activities).toHaveLength(1);
    expect(missing.activities[0]).toMatchObject({
      activity: null,
      type: 'running',
      presence: { strava: 'present', garmin_connect: 'missing' },
      missingAt: ['garmin_connect'],
    });
    const all = await runActivitiesList(u.userId, { all: true }, { env, out: capture().stream });
    expect(all.activities).toHaveLength(3);
    expect(all.activities.filter((a) => a.activity !== null)).toHaveLength(2);

    await expect(
      runActivitiesList(u.userId, { missing: true, synced: true, offline: true }, { env }),
    ).rejects.toBeInstanceOf(CliUsageError);
  });

  it('should download only the originals not yet in the folder', async () => {
    const target = join(dir, 'files');
    const first = await runDownload(u.userId, { missing: true, to: target }, { env, out: capture().stream });
    expect(first).toMatchObject({ total: 2, skipped: 0, failed: [] });
    expect(first.written).toHaveLength(2);
    expect((await readdir(target)).sort()).toEqual([...first.written].sort());
    const fit = await readFile(join(target, first.written[0]!));
    expect(fit.subarray(8, 12).toString('latin1')).toBe('.FIT');

    // A file of the activity in another format counts as downloaded; a deleted one comes back.
    const [kept, removed] = first.written as [string, string];
    await rm(join(target, kept));
    await writeFile(join(target, kept.replace(/\.fit$/, '.gpx')), 'converted by hand');
    await rm(join(target, removed));
    const again = await runDownload(u.userId, { missing: true, to: target }, { env, out: capture().stream });
    expect(again).toMatchObject({ skipped: 1, written: [removed] });
  });

  it('should report activities it cannot download and fail with exit code 1', async () => {
    const other = await newUser(ctx.db);
    await newActivityRecord(ctx.db, other.id);
    const out = capture();
    await expect(runDownload(other.id, { to: join(dir, 'other') }, { env, out: out.stream })).rejects.toBeInstanceOf(
      DownloadIncompleteError,
    );
    expect(out.text()).toMatch(/failed: activity .* not found/);
  });

  it('should export a zip with every original and an index, drawing progress only on a terminal', async () => {
    const file = join(dir, 'export.zip');
    const out = capture();
    const err = capture(true);
    const result = await runExport(u.email, { out: file, json: true }, { env, out: out.stream, err: err.stream });
    expect(result).toMatchObject({ userId: u.userId, activities: 2, files: 2, missing: 0 });
    expect(JSON.parse(out.text())).toEqual(result);
    expect(err.text()).toContain('100% 2/2');
    const zip = unzipSync(new Uint8Array(await readFile(file)));
    expect(Object.keys(zip).filter((n) => n.startsWith('activities/'))).toHaveLength(2);
    expect(strFromU8(zip['index.csv']!).split('\r\n')[0]).toContain('presence_strava');
    expect(await readdir(dir)).not.toContain('export.zip.partial');

    const quiet = capture(false);
    await runExport(u.userId, { out: join(dir, 'quiet.zip') }, { env, out: capture().stream, err: quiet.stream });
    expect(quiet.text()).toBe('');
  });

  it('should queue a sync under the deterministic job id and follow the run until it ends', async () => {
    const user = await newUser(ctx.db);
    const queued = await runSync(user.id, { json: true }, { env, out: capture().stream });
    expect(queued).toMatchObject({ userId: user.id, status: 'queued', queued: true });
    expect(queued.jobId).toBe(jobIdFor({ name: JobName.SyncUser, data: { userId: user.id, trigger: 'manual' } }));
    const queue = new Queue(QueueName.Sync, { connection: { url: REDIS_URL }, prefix });
    const job = await queue.getJob(queued.jobId);
    expect(job?.data).toEqual({ userId: user.id, trigger: 'manual', exhaustive: false });
    await queue.close();

    // A stand-in worker takes the run once the CLI is following it (its first progress line is drawn).
    const following = async (err: { text(): string }) => {
      while (!err.text().includes('waiting for a worker')) await new Promise((r) => setTimeout(r, 20));
    };
    const err = capture(true);
    const out = capture();
    const worker = (async () => {
      await following(err);
      await ctx.repos.syncRuns.start(user.id, queued.runId, 'test-worker');
      await ctx.repos.syncRuns.heartbeat(user.id, queued.runId, { progress: 0.5, phase: 'listing strava', counts: {} });
      await new Promise((r) => setTimeout(r, 200));
      await ctx.repos.syncRuns.finish(user.id, queued.runId, { status: 'succeeded', counts: { uploaded: 3 } });
    })();
    const waited = await runSync(user.email!, { wait: true, pollMs: 50 }, { env, out: out.stream, err: err.stream });
    await worker;
    expect(waited).toMatchObject({ runId: queued.runId, status: 'succeeded', queued: false, counts: { uploaded: 3 } });
    expect(out.text()).toContain('Sync succeeded: uploaded=3.');
    expect(err.text()).toContain('listing strava');
    expect(err.text()).toContain('succeeded');

    const partialErr = capture(true);
    const partialOut = capture();
    const failing = (async () => {
      await following(partialErr);
      const run = await ctx.repos.syncRuns.findActive(user.id);
      await ctx.repos.syncRuns.start(user.id, run!.id, 'test-worker');
      await ctx.repos.syncRuns.finish(user.id, run!.id, {
        status: 'partial',
        errors: [{ code: 'upload', message: 'Garmin said no' }],
      });
    })();
    await expect(
      runSync(
        user.id,
        { wait: true, exhaustive: true, pollMs: 50 },
        { env, out: partialOut.stream, err: partialErr.stream },
      ),
    ).rejects.toBeInstanceOf(SyncNotSucceededError);
    await failing;
    expect(partialOut.text()).toContain('error: upload: Garmin said no');
  });

  it('should exit 2 for bad input and 0 with JSON on stdout when run as a process', async () => {
    const cli = ['--require', './scripts/register-ts.js', 'apps/cli/src/main.ts'];
    const opts = { cwd: join(__dirname, '..', '..'), env: { PATH: process.env.PATH, ...env } };
    const bad = await exec(
      process.execPath,
      [...cli, 'users', 'role', `${unique('nobody')}@example.test`, 'admin'],
      opts,
    ).catch((e: { code: number; stderr: string }) => e);
    expect(bad).toMatchObject({ code: 2, stderr: expect.stringMatching(/no such user/) as unknown });
    // A usage error of a subcommand (commander's own) is a 2 as well, not commander's default 1.
    const usage = await exec(process.execPath, [...cli, 'sync'], opts).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(usage).toMatchObject({ code: 2, stderr: expect.stringMatching(/missing required argument/) as unknown });
    const ok = await exec(process.execPath, [...cli, 'users', 'list', '--json'], opts);
    expect((JSON.parse(ok.stdout) as { id: string }[]).some((x) => x.id === u.userId)).toBe(true);
  });
});
