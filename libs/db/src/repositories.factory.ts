import { type Kysely } from 'kysely';
import { type Keyring } from '@tributary/common';
import {
  ActivityOriginalRepository,
  ActivityRecordRepository,
  ConnectionLedgerRepository,
  ConnectionRepository,
  CredentialsRepository,
  ExclusionRepository,
  NotificationRepository,
  StatsRepository,
  SyncErrorRepository,
  SyncRunRepository,
  UserRepository,
} from './repositories';
import { type DB } from './schema';

export interface Repositories {
  users: UserRepository;
  connections: ConnectionRepository;
  activities: ActivityRecordRepository;
  originals: ActivityOriginalRepository;
  ledger: ConnectionLedgerRepository;
  syncRuns: SyncRunRepository;
  syncErrors: SyncErrorRepository;
  exclusions: ExclusionRepository;
  stats: StatsRepository;
  credentials: CredentialsRepository;
  notifications: NotificationRepository;
}

/** Every repository over one Kysely instance; `keyring` null means credentials cannot be stored or read. */
export function createRepositories(db: Kysely<DB>, keyring: Keyring | null): Repositories {
  return {
    users: new UserRepository(db),
    connections: new ConnectionRepository(db, keyring),
    activities: new ActivityRecordRepository(db),
    originals: new ActivityOriginalRepository(db),
    ledger: new ConnectionLedgerRepository(db),
    syncRuns: new SyncRunRepository(db),
    syncErrors: new SyncErrorRepository(db),
    exclusions: new ExclusionRepository(db),
    stats: new StatsRepository(db),
    credentials: new CredentialsRepository(db),
    notifications: new NotificationRepository(db, keyring),
  };
}
