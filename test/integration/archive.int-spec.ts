import { Writable } from 'node:stream';
import { strFromU8, unzipSync } from 'fflate';
import {
  ActivityFiles,
  type ArchiveDeps,
  ArchiveNotFoundError,
  type ExportIndexEntry,
  type ExportProgress,
  exportUserData,
} from '@tributary/archive';
import { createLogger } from '@tributary/common';
import { type Database } from '@tributary/db';
import { decodeActivity, detectFormat } from '@tributary/formats';
import { newActivityRecord, newUser } from './support/factories';
import {
  type SandboxUser,
  type SandboxWorld,
  newStravaGarminUser,
  sandboxSpec,
  sandboxSyncService,
  seedRunAndRide,
  startSandboxWorld,
} from './support/sandbox-users';
import { createTestContext, type TestContext } from './support/test-db';

jest.setTimeout(60_000);

const HOUR = 3_600_000;
const logger = createLogger({ level: 'silent' });

/** Collects what is written, in chunks small enough that the exporter has to wait for 'drain'. */
class SlowSink extends Writable {
  readonly chunks: Buffer[] = [];
  constructor() {
    super({ highWaterMark: 1024 });
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.chunks.push(chunk);
    setImmediate(done);
  }
  bytes(): Uint8Array {
    return new Uint8Array(Buffer.concat(this.chunks));
  }
}

describe('@tributary/archive', () => {
  let world: SandboxWorld;
  let ctx: TestContext;
  let deps: ArchiveDeps;
  let u: SandboxUser;
  let fromStrava: string;
  let fromGarmin: string;

  beforeAll(async () => {
    world = await startSandboxWorld();
    ctx = createTestContext();
    const database: Database = { db: ctx.db, kind: 'server', ping: () => Promise.resolve(), close: () => ctx.close() };
    deps = { database, connections: ctx.repos.connections, registry: world.registry, logger };

    // A real sync: each activity is downloaded from its source for its upload, and the worker archives that file.
    u = await newStravaGarminUser(world, ctx, ctx.repos);
    const day = Date.now() - 4 * 24 * HOUR;
    await seedRunAndRide(world, u, day, 5 * HOUR);
    const result = await sandboxSyncService(world, ctx).run({
      userId: u.userId,
      trigger: 'manual',
      workerId: 'archive-test',
    });
    expect(result).toMatchObject({ status: 'succeeded', counts: { uploaded: 2 } });
    const records = await ctx.repos.activities.listForUser(u.userId);
    expect(records).toHaveLength(2);
    const [later, earlier] = records;
    fromGarmin = later!.id;
    fromStrava = earlier!.id;
  });

  afterAll(async () => {
    await world?.close();
    await ctx?.close();
  });

  it('should archive the source file during the sync, or a derived FIT when the source had none', async () => {
    const garminCopy = await ctx.repos.originals.find(u.userId, fromGarmin);
    expect(garminCopy).toMatchObject({ derived: false, source_connection_id: u.connections.garmin });
    const stravaCopy = await ctx.repos.originals.find(u.userId, fromStrava);
    expect(stravaCopy).toMatchObject({ format: 'fit', derived: true, source_connection_id: u.connections.strava });
    const file = await new ActivityFiles(deps).original(u.userId, fromStrava);
    expect(detectFormat(file.bytes)).toBe('fit');
    expect(file.fileName).toMatch(/^\d{4}-\d{2}-\d{2}_\d{4}-running-[0-9a-f]{8}\.fit$/);
    expect(decodeActivity(file.bytes).samples.length).toBeGreaterThan(10);
  });

  it('should finish the sync when the original cannot be stored', async () => {
    const v = await newStravaGarminUser(world, ctx, ctx.repos);
    await world.control('POST', '/strava/activities', {
      athlete: v.athleteId,
      spec: sandboxSpec(Date.now() - 3 * 24 * HOUR),
    });
    const broken = Object.assign(Object.create(ctx.repos.originals) as typeof ctx.repos.originals, {
      put: () => Promise.reject(new TypeError('disk full')),
    });
    const result = await sandboxSyncService(world, ctx, { originals: broken }).run({
      userId: v.userId,
      trigger: 'manual',
      workerId: 'archive-test',
    });
    expect(result).toMatchObject({ status: 'succeeded', counts: { uploaded: 1 } });
    expect(await ctx.repos.originals.list(v.userId)).toEqual([]);
  });

  it('should fetch an original that is not stored from a connection holding it, and store it', async () => {
    const before = await ctx.repos.originals.get(u.userId, fromGarmin);
    expect(await ctx.repos.originals.remove(u.userId, fromGarmin)).toBe(true);
    const files = new ActivityFiles(deps);
    const fetched = await files.original(u.userId, fromGarmin);
    // Garmin has the recorded file and is preferred over Strava's streams.
    expect(fetched).toMatchObject({ derived: false, format: before!.format });
    expect(fetched.bytes).toEqual(before!.bytes);
    expect(await ctx.repos.originals.find(u.userId, fromGarmin)).toMatchObject({
      derived: false,
      source_connection_id: u.connections.garmin,
    });
  });

  it('should convert to other formats and decode the activity', async () => {
    const files = new ActivityFiles(deps);
    const original = await files.original(u.userId, fromGarmin);
    const same = await files.inFormat(u.userId, fromGarmin, original.format);
    expect(same.bytes).toEqual(original.bytes);
    const gpx = await files.inFormat(u.userId, fromGarmin, 'gpx');
    expect(gpx).toMatchObject({ format: 'gpx', derived: true });
    expect(gpx.fileName.endsWith('.gpx')).toBe(true);
    expect(detectFormat(gpx.bytes)).toBe('gpx');
    const activity = await files.activity(u.userId, fromGarmin);
    expect(activity.type).toBe('cycling');
    expect(activity.samples.length).toBeGreaterThan(10);
  });

  it('should answer not found for another user’s activity and for one no connection holds', async () => {
    const other = await newUser(ctx.db);
    const files = new ActivityFiles(deps);
    await expect(files.original(other.id, fromGarmin)).rejects.toBeInstanceOf(ArchiveNotFoundError);
    await expect(files.inFormat(other.id, fromGarmin, 'tcx')).rejects.toBeInstanceOf(ArchiveNotFoundError);
    await expect(files.activity(other.id, 'not-a-uuid')).rejects.toBeInstanceOf(ArchiveNotFoundError);
    const orphan = await newActivityRecord(ctx.db, other.id);
    await expect(files.original(other.id, orphan.id)).rejects.toBeInstanceOf(ArchiveNotFoundError);
    expect(await ctx.repos.originals.list(other.id)).toEqual([]);
  });

  it('should export every original with an index, listing what it could not get, while the output drains', async () => {
    const orphan = await newActivityRecord(ctx.db, u.userId, { startAt: new Date(Date.now() - 10 * 24 * HOUR) });
    await ctx.repos.originals.remove(u.userId, fromStrava);
    const sink = new SlowSink();
    const progress: ExportProgress[] = [];
    const result = await exportUserData(deps, u.userId, sink, { onProgress: (p) => progress.push(p) });
    expect(result).toEqual({ activities: 3, files: 2, missing: 1 });
    expect(progress.at(-1)).toMatchObject({ done: 3, total: 3 });
    expect(progress.at(-1)!.bytes).toBe(sink.bytes().length);

    const zip = unzipSync(sink.bytes());
    const index = JSON.parse(strFromU8(zip['index.json']!)) as { activities: ExportIndexEntry[] };
    expect(index.activities.map((a) => a.activity)).toEqual([orphan.id, fromStrava, fromGarmin]);
    const [missing, strava, garmin] = index.activities;
    expect(missing).toMatchObject({ file: null, presence: {} });
    expect(missing!.error).toMatch(/not found/);
    expect(strava!.presence).toEqual({ strava: 'present', garmin_connect: 'present' });
    for (const entry of [strava!, garmin!]) {
      expect(entry.file).toMatch(/^activities\//);
      expect(decodeActivity(zip[entry.file!]!).samples.length).toBeGreaterThan(10);
    }
    // Fetched again for the export and archived: from Garmin, which holds the copy the sync uploaded as a file.
    expect(strava).toMatchObject({ format: 'fit', derived: false });
    expect(await ctx.repos.originals.find(u.userId, fromStrava)).toMatchObject({
      source_connection_id: u.connections.garmin,
    });
    const csv = strFromU8(zip['index.csv']!).trim().split('\r\n');
    expect(csv[0]).toBe(
      'activity,start,type,name,distance,file,format,derived,error,presence_garmin_connect,presence_strava',
    );
    expect(csv).toHaveLength(4);
    expect(csv[3]).toContain(`${fromGarmin},`);
    expect(csv[3]).toMatch(/,present,present$/);
  });

  it('should export nothing of another user', async () => {
    const other = await newUser(ctx.db);
    const sink = new SlowSink();
    expect(await exportUserData(deps, other.id, sink)).toEqual({ activities: 0, files: 0, missing: 0 });
    const zip = unzipSync(sink.bytes());
    expect(Object.keys(zip).sort()).toEqual(['index.csv', 'index.json']);
  });

  it('should stop when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(exportUserData(deps, u.userId, new SlowSink(), { signal: controller.signal })).rejects.toMatchObject({
      code: 'export_aborted',
    });
  });
});
