import { setTimeout as sleep } from 'node:timers/promises';
import { type Command, InvalidArgumentError } from 'commander';
import { type SyncRunRow } from '@tributary/db';
import { JobName, JobService, SyncPriority } from '@tributary/queue';
import { CliIncompleteError } from './cli.error';
import { type CliIo, openOnlineCli } from './cli-context.util';
import { resolveUser } from './cli-users.util';
import { ProgressBar } from './progress-bar.util';

export interface SyncCommandOptions {
  json?: boolean;
  exhaustive?: boolean;
  wait?: boolean;
  /** Seconds to wait with --wait before giving up (the sync itself goes on). */
  timeout?: number;
  /** How often the run row is read while waiting; tests shorten it. */
  pollMs?: number;
}

export interface SyncCommandResult {
  userId: string;
  runId: string;
  jobId: string;
  /** False when the user's sync job was already queued or running, so this request joined it. */
  queued: boolean;
  exhaustive: boolean;
  status: SyncRunRow['status'];
  progress: number;
  counts: Record<string, unknown>;
  errors: unknown[];
}

/** The sync did not finish well (or not within --timeout): exit code 1 with the run's state printed. */
export class SyncNotSucceededError extends CliIncompleteError {
  constructor(status: string, runId: string) {
    super('sync_not_succeeded', `sync run ${runId} ended ${status}`);
  }
}

function summary(run: SyncRunRow, base: Omit<SyncCommandResult, 'status' | 'progress' | 'counts' | 'errors'>) {
  return { ...base, status: run.status, progress: run.progress, counts: run.counts, errors: run.errors };
}

/**
 * `tributary sync <user>`: queues the user's sync the way "Sync now" does (a sync_runs row, next_sync_at as the
 * safety net should the job be lost, and the SyncUser job under its deterministic id, so a sync already queued is
 * joined, not doubled). With --wait it follows the run row until it finishes, with a progress bar on a terminal.
 */
export async function runSync(ref: string, opts: SyncCommandOptions, io: CliIo = {}): Promise<SyncCommandResult> {
  const out = io.out ?? process.stdout;
  const ctx = await openOnlineCli(io.env);
  const jobs = new JobService(ctx.redis, ctx.config.redis.queuePrefix);
  try {
    const user = await resolveUser(ctx.database.db, ref);
    const exhaustive = opts.exhaustive === true;
    const { run, created } = await ctx.repos.syncRuns.enqueue(user.id, { trigger: 'admin', exhaustive });
    await ctx.repos.users.scheduleSync(user.id, { at: new Date(), exhaustive });
    const job = await jobs.enqueue(
      { name: JobName.SyncUser, data: { userId: user.id, trigger: 'manual', exhaustive } },
      { priority: SyncPriority.Manual },
    );
    const base = { userId: user.id, runId: run.id, jobId: job.jobId, queued: created || job.added, exhaustive };
    if (!opts.json) {
      out.write(
        `${created ? 'Queued' : 'Joined'} sync run ${run.id} for user ${user.id}` +
          `${run.exhaustive ? ' (exhaustive)' : ''}; job ${job.jobId}.\n`,
      );
    }
    if (!opts.wait) {
      const result = summary(run, base);
      if (opts.json) out.write(`${JSON.stringify(result)}\n`);
      return result;
    }
    const finished = await follow(ctx.repos.syncRuns, user.id, run.id, opts, io);
    const result = summary(finished, base);
    if (opts.json) out.write(`${JSON.stringify(result)}\n`);
    else {
      const counts = Object.entries(finished.counts)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(' ');
      out.write(`Sync ${finished.status}${counts === '' ? '' : `: ${counts}`}.\n`);
      for (const e of finished.errors) out.write(`  error: ${e.code}: ${e.message}\n`);
    }
    if (finished.status !== 'succeeded') throw new SyncNotSucceededError(finished.status, finished.id);
    return result;
  } finally {
    await jobs.close();
    await ctx.close();
  }
}

async function follow(
  syncRuns: { findById(userId: string, runId: string): Promise<SyncRunRow | undefined> },
  userId: string,
  runId: string,
  opts: SyncCommandOptions,
  io: CliIo,
): Promise<SyncRunRow> {
  const bar = new ProgressBar('sync', io.err ?? process.stderr);
  const deadline = Date.now() + (opts.timeout ?? 3600) * 1000;
  for (;;) {
    const run = await syncRuns.findById(userId, runId);
    if (run === undefined) throw new SyncNotSucceededError('deleted', runId);
    if (run.status !== 'queued' && run.status !== 'running') {
      bar.done(run.status);
      return run;
    }
    bar.update(run.progress, run.status === 'queued' ? 'waiting for a worker' : (run.phase ?? 'running'));
    if (Date.now() > deadline) {
      bar.done('still running');
      throw new SyncNotSucceededError(`still ${run.status} after the --timeout`, runId);
    }
    await sleep(opts.pollMs ?? 500);
  }
}

function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number of seconds');
  return n;
}

export function registerSyncCommand(program: Command): void {
  program
    .command('sync')
    .description('Queue a sync of one user (like "Sync now"), optionally waiting for it to finish')
    .argument('<user>', 'user id, email, or service:externalUserId')
    .option('--exhaustive', 'list everything at every service, not only what changed')
    .option('--wait', 'follow the sync until it finishes (exit 1 unless it succeeded)')
    .option('--timeout <seconds>', 'with --wait: give up waiting after this long', positiveSeconds, 3600)
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      await runSync(ref, cmd.optsWithGlobals<SyncCommandOptions>());
    });
}
