import { mkdir, mkdtemp, readFile, readdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ConfigError } from '@tributary/common';
import {
  ActivityNotAcceptedError,
  DuplicateAtDestinationError,
  PathNotAllowedError,
  RemoteNotFoundError,
} from '../errors/connector.error';
import { fakeCodec, sampleActivity, testContext } from '../testing/connector-test.util';
import { LocalFolderConnector } from './local-folder.connector';

function encoded(overrides: Parameters<typeof sampleActivity>[0] = {}, format = 'fit'): string {
  return JSON.stringify({ format, activity: sampleActivity(overrides) });
}

describe(LocalFolderConnector.name, () => {
  let base: string;
  let root: string;
  let outside: string;
  let sut: LocalFolderConnector;

  beforeEach(async () => {
    base = await mkdtemp(path.join(tmpdir(), 'tributary-local-'));
    root = path.join(base, 'root');
    outside = path.join(base, 'outside');
    await mkdir(path.join(root, 'alice', 'runs'), { recursive: true });
    await mkdir(outside);
    await writeFile(path.join(outside, 'secret.fit'), encoded({ name: 'secret' }));
    sut = new LocalFolderConnector({ root }, fakeCodec);
  });

  afterEach(() => rm(base, { recursive: true, force: true }));

  const ctx = (config: Record<string, unknown> = { folder: 'alice' }) => testContext({}, config);

  it('should list activity files recursively with relative paths as remote ids', async () => {
    await writeFile(path.join(root, 'alice', 'runs', 'b.fit'), encoded({ name: 'b' }));
    await writeFile(path.join(root, 'alice', 'a.gpx'), encoded({ name: 'a', type: 'hiking' }, 'gpx'));
    await writeFile(path.join(root, 'alice', 'notes.txt'), 'hello');
    await writeFile(path.join(root, 'alice', '.half-written.fit.tmp'), 'x');
    await writeFile(path.join(root, 'alice', 'broken.tcx'), 'garbage');
    const page = await sut.listActivities(ctx(), { exhaustive: true });
    expect(page.activities.map((a) => [a.remoteId, a.name, a.type, a.originalFormats])).toEqual([
      ['a.gpx', 'a', 'hiking', ['gpx']],
      ['runs/b.fit', 'b', 'running', ['fit']],
    ]);
    expect(page.exclusions).toEqual([
      { remoteId: 'broken.tcx', reason: 'corrupt', message: expect.any(String) as unknown, permanent: true },
    ]);
    expect(page.cursor).toBeUndefined();
  });

  it('should only list files changed after `after` on partial syncs', async () => {
    const oldFile = path.join(root, 'alice', 'old.fit');
    await writeFile(oldFile, encoded({ name: 'old' }));
    await utimes(oldFile, new Date(2020, 0, 1), new Date(2020, 0, 1));
    await writeFile(path.join(root, 'alice', 'new.fit'), encoded({ name: 'new' }));
    const page = await sut.listActivities(ctx(), { exhaustive: false, after: Date.UTC(2024, 0, 1) });
    expect(page.activities.map((a) => a.remoteId)).toEqual(['new.fit']);
  });

  it('should refuse folders and files outside the root: .., absolute paths, symlinks', async () => {
    await expect(sut.listActivities(ctx({ folder: '../outside' }), { exhaustive: true })).rejects.toBeInstanceOf(
      PathNotAllowedError,
    );
    await expect(sut.listActivities(ctx({ folder: outside }), { exhaustive: true })).rejects.toBeInstanceOf(
      PathNotAllowedError,
    );
    await expect(sut.validateConfig({ folder: 'a/../../outside' })).rejects.toBeInstanceOf(PathNotAllowedError);
    await symlink(outside, path.join(root, 'escape'));
    await expect(sut.listActivities(ctx({ folder: 'escape' }), { exhaustive: true })).rejects.toBeInstanceOf(
      PathNotAllowedError,
    );
    for (const remoteId of ['../../outside/secret.fit', path.join(outside, 'secret.fit'), 'runs\\..\\x.fit']) {
      await expect(sut.downloadActivity(ctx(), { remoteId, start: 0, type: 'other' })).rejects.toBeInstanceOf(
        PathNotAllowedError,
      );
    }
  });

  it('should not follow symlinks that leave the folder, when listing or downloading', async () => {
    await symlink(path.join(outside, 'secret.fit'), path.join(root, 'alice', 'link.fit'));
    await symlink(outside, path.join(root, 'alice', 'linkdir'));
    await writeFile(path.join(root, 'alice', 'mine.fit'), encoded({ name: 'mine' }));
    await symlink(path.join(root, 'alice', 'mine.fit'), path.join(root, 'alice', 'alias.fit'));
    const page = await sut.listActivities(ctx(), { exhaustive: true });
    expect(page.activities.map((a) => a.remoteId)).toEqual(['alias.fit', 'mine.fit']);
    expect(page.exclusions.map((e) => [e.remoteId, e.reason])).toEqual([
      ['link.fit', 'path_not_allowed'],
      ['linkdir', 'path_not_allowed'],
    ]);
    await expect(sut.downloadActivity(ctx(), { remoteId: 'link.fit', start: 0, type: 'other' })).rejects.toBeInstanceOf(
      PathNotAllowedError,
    );
    await expect(
      sut.downloadActivity(ctx(), { remoteId: 'linkdir/secret.fit', start: 0, type: 'other' }),
    ).rejects.toBeInstanceOf(PathNotAllowedError);
  });

  it('should download a file with its original bytes, and report missing files', async () => {
    const bytes = encoded({ name: 'b' });
    await writeFile(path.join(root, 'alice', 'runs', 'b.fit'), bytes);
    const activity = await sut.downloadActivity(ctx(), { remoteId: 'runs/b.fit', start: 0, type: 'other' });
    expect(activity.name).toBe('b');
    expect(activity.original).toEqual({ format: 'fit', bytes: new Uint8Array(Buffer.from(bytes)), name: 'b.fit' });
    await expect(sut.downloadActivity(ctx(), { remoteId: 'nope.fit', start: 0, type: 'other' })).rejects.toBeInstanceOf(
      RemoteNotFoundError,
    );
  });

  it('should upload atomically under the name template and never overwrite a different file', async () => {
    const result = await sut.uploadActivity(ctx({ folder: 'bob' }), sampleActivity());
    expect(result).toEqual({ remoteId: '2024-05-01_08-00-00_Morning_run_Run.fit' });
    const dir = path.join(root, 'bob');
    expect(await readdir(dir)).toEqual(['2024-05-01_08-00-00_Morning_run_Run.fit']);
    const written = await readFile(path.join(dir, result.remoteId), 'utf8');
    expect(JSON.parse(written)).toMatchObject({ format: 'fit', activity: { name: 'Morning run' } });

    // Same bytes again (a retried job): success, same id, nothing new.
    await expect(sut.uploadActivity(ctx({ folder: 'bob' }), sampleActivity())).resolves.toEqual(result);
    // Different content under the same name: refused, existing file untouched, no temp files left.
    const err = await sut
      .uploadActivity(ctx({ folder: 'bob' }), sampleActivity({ notes: 'changed' }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DuplicateAtDestinationError);
    expect(await readFile(path.join(dir, result.remoteId), 'utf8')).toBe(written);
    expect(await readdir(dir)).toEqual([result.remoteId]);
  });

  it('should pass through original bytes in the configured format and use a custom template', async () => {
    const bytes = new Uint8Array(Buffer.from('<gpx/>'));
    const result = await sut.uploadActivity(
      ctx({ folder: 'bob', format: 'gpx', nameTemplate: '%Y/%m #NAME' }),
      sampleActivity({ original: { format: 'gpx', bytes }, name: 'a/b:c' }),
    );
    expect(result.remoteId).toBe('2024_05_a_b_c.gpx');
    expect(await readFile(path.join(root, 'bob', result.remoteId), 'utf8')).toBe('<gpx/>');
  });

  it('should refuse stationary activities and work only with a root configured', async () => {
    await expect(sut.uploadActivity(ctx(), sampleActivity({ stationary: true, samples: [] }))).rejects.toBeInstanceOf(
      ActivityNotAcceptedError,
    );
    const disabled = new LocalFolderConnector({}, fakeCodec);
    await expect(disabled.listActivities(ctx(), { exhaustive: true })).rejects.toBeInstanceOf(ConfigError);
  });

  it('should page through large folders', async () => {
    for (let i = 0; i < 205; i++) {
      await writeFile(path.join(root, 'alice', `f${String(i).padStart(3, '0')}.fit`), encoded({ name: `f${i}` }));
    }
    const first = await sut.listActivities(ctx(), { exhaustive: true });
    expect(first.activities).toHaveLength(200);
    expect(first.cursor).toBe('200');
    const second = await sut.listActivities(ctx(), { exhaustive: true, cursor: first.cursor });
    expect(second.activities.map((a) => a.remoteId)).toEqual([
      'f200.fit',
      'f201.fit',
      'f202.fit',
      'f203.fit',
      'f204.fit',
    ]);
    expect(second.cursor).toBeUndefined();
  });
});
