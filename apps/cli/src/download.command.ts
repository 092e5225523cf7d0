import { mkdir, readdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Command } from 'commander';
import { describeError } from '@tributary/common';
import { ActivityFiles, activityFileName } from '@tributary/archive';
import { CliIncompleteError, CliUsageError } from './cli.error';
import { type CliIo, openOnlineCli } from './cli-context.util';
import { resolveUser } from './cli-users.util';
import { ProgressBar, formatBytes } from './progress-bar.util';

export interface DownloadOptions {
  json?: boolean;
  /** Only activities with no file in the folder yet (in any format). */
  missing?: boolean;
  to?: string;
}

export interface DownloadResult {
  userId: string;
  dir: string;
  total: number;
  written: string[];
  skipped: number;
  bytes: number;
  failed: { activity: string; message: string }[];
}

export class DownloadIncompleteError extends CliIncompleteError {
  constructor(failed: number) {
    super('download_incomplete', `${failed} activit${failed === 1 ? 'y' : 'ies'} could not be downloaded (see above)`);
  }
}

/** The name without its extension: a file already there in another format still counts as downloaded. */
function stemOf(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  return dot <= 0 ? fileName : fileName.slice(0, dot);
}

/**
 * `tributary download <user> [--missing] --to <dir>`: writes each activity's original file into the folder, named
 * `<local start>-<type>-<shortid>.<ext>`. Files not stored at the hub are fetched from a connection (and stored).
 * Each file is written under a temporary name and renamed, so an interrupted run never leaves a half file that a
 * later `--missing` run would take for done.
 */
export async function runDownload(ref: string, opts: DownloadOptions, io: CliIo = {}): Promise<DownloadResult> {
  const out = io.out ?? process.stdout;
  if (opts.to === undefined || opts.to.trim() === '') throw new CliUsageError('--to <dir> is required');
  const dir = resolve(opts.to);
  await mkdir(dir, { recursive: true });
  const present = new Set((await readdir(dir)).map(stemOf));
  const ctx = await openOnlineCli(io.env);
  const result: DownloadResult = { userId: '', dir, total: 0, written: [], skipped: 0, bytes: 0, failed: [] };
  try {
    const user = await resolveUser(ctx.database.db, ref);
    result.userId = user.id;
    const files = new ActivityFiles({
      database: ctx.database,
      connections: ctx.repos.connections,
      registry: ctx.registry,
      logger: ctx.logger,
    });
    const records = await ctx.database.db
      .selectFrom('activity_records')
      .selectAll()
      .where('user_id', '=', user.id)
      .orderBy('start_at')
      .orderBy('id')
      .execute();
    const todo = records.filter((r) => opts.missing !== true || !present.has(stemOf(activityFileName(r, 'fit'))));
    result.total = records.length;
    result.skipped = records.length - todo.length;
    const bar = new ProgressBar('download', io.err ?? process.stderr);
    const detail = (i: number) => `${i}/${todo.length} ${formatBytes(result.bytes)}`;
    bar.update(0, detail(0), true);
    for (const [i, record] of todo.entries()) {
      try {
        const file = await files.originalOf(user.id, record);
        const target = join(dir, file.fileName);
        const partial = `${target}.partial`;
        await writeFile(partial, file.bytes);
        await rename(partial, target);
        result.written.push(file.fileName);
        result.bytes += file.bytes.length;
      } catch (err) {
        result.failed.push({ activity: record.id, message: describeError(err) });
      }
      bar.update((i + 1) / todo.length, detail(i + 1));
    }
    bar.done(detail(todo.length));
  } finally {
    await ctx.close();
    // A crash between write and rename leaves a .partial behind; never let it pass for an activity file.
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (name.endsWith('.partial')) await unlink(join(dir, name)).catch(() => undefined);
    }
  }
  if (opts.json) out.write(`${JSON.stringify(result)}\n`);
  else {
    out.write(
      `Wrote ${result.written.length} file(s) (${formatBytes(result.bytes)}) to ${dir}; ` +
        `${result.skipped} already there; ${result.failed.length} failed.\n`,
    );
    for (const f of result.failed) out.write(`  failed: activity ${f.activity}: ${f.message}\n`);
  }
  if (result.failed.length > 0) throw new DownloadIncompleteError(result.failed.length);
  return result;
}

export function registerDownloadCommand(program: Command): void {
  program
    .command('download')
    .description('Write a user’s original activity files into a folder')
    .argument('<user>', 'user id, email, or service:externalUserId')
    .requiredOption('--to <dir>', 'target folder (created if needed)')
    .option('--missing', 'only activities that have no file in the folder yet')
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      await runDownload(ref, cmd.optsWithGlobals<DownloadOptions>());
    });
}
