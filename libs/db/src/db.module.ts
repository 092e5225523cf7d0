import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { type Keyring } from '@tributary/common';
import { type Database } from './database';
import {
  ActivityRecordRepository,
  ConnectionLedgerRepository,
  ConnectionRepository,
  CredentialsRepository,
  ExclusionRepository,
  StatsRepository,
  SyncErrorRepository,
  SyncRunRepository,
  UserRepository,
} from './repositories';
import { createRepositories } from './repositories.factory';

/** Injection token for the opened Database (kind, ping, close, the Kysely instance). */
export const DATABASE = Symbol('DATABASE');

/**
 * Makes the repositories injectable by their class. The database is opened (and migrated) by the app's main.ts before
 * Nest starts, which also owns closing it; this module only wires what it is given.
 */
@Module({})
export class DbModule {
  static forDatabase(database: Database, keyring: Keyring | null): DynamicModule {
    const repos = createRepositories(database.db, keyring);
    const providers: Provider[] = [
      { provide: DATABASE, useValue: database },
      { provide: UserRepository, useValue: repos.users },
      { provide: ConnectionRepository, useValue: repos.connections },
      { provide: ActivityRecordRepository, useValue: repos.activities },
      { provide: ConnectionLedgerRepository, useValue: repos.ledger },
      { provide: SyncRunRepository, useValue: repos.syncRuns },
      { provide: SyncErrorRepository, useValue: repos.syncErrors },
      { provide: ExclusionRepository, useValue: repos.exclusions },
      { provide: StatsRepository, useValue: repos.stats },
      { provide: CredentialsRepository, useValue: repos.credentials },
    ];
    return {
      module: DbModule,
      global: true,
      providers,
      exports: providers,
    };
  }
}
