import { type Command } from 'commander';
import { loadConfig } from '@tributary/config';
import { createDatabase, migrateDown, migrateToLatest, migrationNames, type MigrationOutcome } from '@tributary/db';

export type DbAction = 'migrate' | 'rollback';

/**
 * `tributary db migrate` applies every pending migration (the Kubernetes migration Job runs it before a rollout;
 * web and worker also migrate at boot, safely in parallel). `tributary db rollback [--all]` undoes the newest one.
 */
export async function runDb(
  action: DbAction,
  opts: { json?: boolean; all?: boolean },
  env: NodeJS.ProcessEnv = process.env,
  out: NodeJS.WritableStream = process.stdout,
): Promise<MigrationOutcome> {
  const config = loadConfig(env);
  const database = await createDatabase(config.database, { applicationName: 'tributary-cli', poolSize: 2 });
  let outcome: MigrationOutcome;
  try {
    outcome =
      action === 'migrate' ? await migrateToLatest(database.db) : await migrateDown(database.db, { all: opts.all });
  } finally {
    await database.close();
  }
  if (opts.json) {
    out.write(`${JSON.stringify({ action, database: database.kind, ...outcome, known: migrationNames() })}\n`);
  } else {
    const verb = action === 'migrate' ? 'Applied' : 'Reverted';
    out.write(
      outcome.applied.length === 0
        ? `Nothing to do: the ${database.kind} database is ${action === 'migrate' ? 'up to date' : 'at the start'}.\n`
        : `${verb} ${outcome.applied.length} migration(s) on the ${database.kind} database:\n${outcome.applied
            .map((name) => `  ${name}\n`)
            .join('')}`,
    );
  }
  return outcome;
}

export function registerDbCommand(program: Command): void {
  const db = program.command('db').description('Database schema');
  db.command('migrate')
    .description('Apply every pending migration')
    .action(async (_opts: unknown, cmd: Command) => {
      await runDb('migrate', cmd.optsWithGlobals<{ json?: boolean }>());
    });
  db.command('rollback')
    .description('Revert the newest migration (or all of them with --all)')
    .option('--all', 'revert every migration')
    .action(async (_opts: unknown, cmd: Command) => {
      await runDb('rollback', cmd.optsWithGlobals<{ json?: boolean; all?: boolean }>());
    });
}
