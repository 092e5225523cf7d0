import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type Command } from 'commander';
import { type ExportProgress, exportUserData } from '@tributary/archive';
import { type CliIo, openOnlineCli } from './cli-context.util';
import { resolveUser } from './cli-users.util';
import { ProgressBar, formatBytes } from './progress-bar.util';

export interface ExportCommandOptions {
  json?: boolean;
  /** Zip file to write; `-` streams it to stdout. Default `tributary-export-<user>-<date>.zip`. */
  out?: string;
}

export interface ExportCommandResult {
  userId: string;
  /** Absolute path, or `-` for stdout. */
  file: string;
  activities: number;
  files: number;
  missing: number;
  bytes: number;
}

/**
 * `tributary export <user> [--out file.zip]`: the same zip the website's "export my data" hands out (every original
 * plus index.json and index.csv). Written under `<file>.partial` and renamed when complete.
 */
export async function runExport(ref: string, opts: ExportCommandOptions, io: CliIo = {}): Promise<ExportCommandResult> {
  const stdout = io.out ?? process.stdout;
  const ctx = await openOnlineCli(io.env);
  let result: ExportCommandResult;
  try {
    const user = await resolveUser(ctx.database.db, ref);
    const toStdout = opts.out === '-';
    const file = toStdout
      ? '-'
      : resolve(opts.out ?? `tributary-export-${user.id.slice(0, 8)}-${new Date().toISOString().slice(0, 10)}.zip`);
    const partial = `${file}.partial`;
    const sink = toStdout ? stdout : createWriteStream(partial);
    const bar = new ProgressBar('export', io.err ?? process.stderr);
    let last: ExportProgress = { done: 0, total: 0, bytes: 0 };
    const onProgress = (p: ExportProgress) => {
      last = p;
      bar.update(p.total === 0 ? 1 : p.done / p.total, `${p.done}/${p.total} ${formatBytes(p.bytes)}`);
    };
    const deps = { database: ctx.database, connections: ctx.repos.connections, registry: ctx.registry };
    try {
      const outcome = await exportUserData({ ...deps, logger: ctx.logger }, user.id, sink, { onProgress });
      if (!toStdout) await rename(partial, file);
      result = { userId: user.id, file, ...outcome, bytes: last.bytes };
    } catch (err) {
      if (!toStdout) {
        (sink as ReturnType<typeof createWriteStream>).destroy();
        await unlink(partial).catch(() => undefined);
      }
      throw err;
    }
    bar.done(`${last.done}/${last.total} ${formatBytes(last.bytes)}`);
  } finally {
    await ctx.close();
  }
  // With the zip on stdout the summary goes to stderr, so the archive stays a valid file.
  const report = result.file === '-' ? (io.err ?? process.stderr) : stdout;
  report.write(
    opts.json
      ? `${JSON.stringify(result)}\n`
      : `Exported ${result.activities} activit${result.activities === 1 ? 'y' : 'ies'} ` +
          `(${result.files} file(s), ${result.missing} without a file) to ${result.file}, ${formatBytes(result.bytes)}.\n`,
  );
  return result;
}

export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description('Export a user’s activities (original files + index.json + index.csv) as a zip')
    .argument('<user>', 'user id, email, or service:externalUserId')
    .option('--out <file>', 'zip file to write (- for stdout)')
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      await runExport(ref, cmd.optsWithGlobals<ExportCommandOptions>());
    });
}
