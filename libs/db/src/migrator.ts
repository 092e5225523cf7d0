import { type Kysely, type MigrationResult, Migrator, NO_MIGRATIONS } from 'kysely';
import { PermanentError, describeError } from '@tributary/common';
import { MIGRATIONS } from './migrations';

export class MigrationError extends PermanentError {
  constructor(message: string, cause?: unknown, results?: MigrationResult[]) {
    super('migration_failed', message, { cause, details: { results } });
  }
}

export interface MigrationOutcome {
  /** Names of the migrations this call applied (up) or reverted (down), in order. */
  applied: string[];
}

function migrator(db: Kysely<unknown>): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(MIGRATIONS) },
  });
}

function settle(direction: string, result: { error?: unknown; results?: MigrationResult[] }): MigrationOutcome {
  if (result.error !== undefined) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? '(before any migration)';
    throw new MigrationError(
      `Migration ${direction} failed at ${failed}: ${describeError(result.error)}`,
      result.error,
      result.results,
    );
  }
  return { applied: (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}

/**
 * Brings the schema up to date. Safe to call from several processes at once (web and worker both call it at boot):
 * Kysely's migrator holds a row lock on its lock table for the duration.
 */
export async function migrateToLatest<T>(db: Kysely<T>): Promise<MigrationOutcome> {
  return settle('up', await migrator(db as unknown as Kysely<unknown>).migrateToLatest());
}

/** Reverts the latest migration, or every migration with `{ all: true }`. */
export async function migrateDown<T>(db: Kysely<T>, opts: { all?: boolean } = {}): Promise<MigrationOutcome> {
  const m = migrator(db as unknown as Kysely<unknown>);
  if (opts.all) return settle('down', await m.migrateTo(NO_MIGRATIONS));
  return settle('down', await m.migrateDown());
}

/** The names of every known migration, for status output. */
export function migrationNames(): string[] {
  return Object.keys(MIGRATIONS).sort();
}
