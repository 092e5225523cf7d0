import { type DynamicModule, Module } from '@nestjs/common';
import { type Keyring, type Logger } from '@tributary/common';
import { type AppConfig } from '@tributary/config';
import { ConnectorRegistry } from '@tributary/connectors';
import {
  AccountRepository,
  ConnectionRepository,
  type Database,
  ExclusionRepository,
  NotificationRepository,
  SessionRepository,
  UserLoginRepository,
  UserRepository,
} from '@tributary/db';
import { PasswordLoginController } from '../auth/password-login.controller';
import { PasswordLoginService } from '../auth/password-login.service';
import { SiteAccountService } from '../auth/site-account.service';
import { SiteSessionService } from '../auth/site-session.service';
import { APP_CONFIG, ROOT_LOGGER } from '../web.tokens';
import { AccountDeletionService } from './account-deletion.service';
import { ConnectionSettingsController } from './connection-settings.controller';
import { ConnectionSettingsService } from './connection-settings.service';
import { ARCHIVE_DEPS, SettingsController } from './settings.controller';

export interface SettingsModuleDependencies {
  config: AppConfig;
  logger: Logger;
  database: Database;
  keyring: Keyring | null;
  connectors: ConnectorRegistry;
}

/** /settings (account), /connections/:id/settings, and email + password login (/login). */
@Module({})
export class SettingsModule {
  static forRoot(deps: SettingsModuleDependencies): DynamicModule {
    const db = deps.database.db;
    const connections = new ConnectionRepository(db, deps.keyring);
    const users = new UserRepository(db);
    return {
      module: SettingsModule,
      controllers: [SettingsController, ConnectionSettingsController, PasswordLoginController],
      providers: [
        { provide: APP_CONFIG, useValue: deps.config },
        { provide: ROOT_LOGGER, useValue: deps.logger },
        { provide: ConnectorRegistry, useValue: deps.connectors },
        { provide: UserRepository, useValue: users },
        { provide: ConnectionRepository, useValue: connections },
        { provide: AccountRepository, useValue: new AccountRepository(db) },
        { provide: SessionRepository, useValue: new SessionRepository(db) },
        { provide: NotificationRepository, useValue: new NotificationRepository(db, deps.keyring) },
        { provide: PasswordLoginService, useValue: new PasswordLoginService(new UserLoginRepository(db)) },
        {
          provide: ConnectionSettingsService,
          useValue: new ConnectionSettingsService(deps.connectors, connections, new ExclusionRepository(db)),
        },
        {
          provide: ARCHIVE_DEPS,
          useValue: { database: deps.database, connections, registry: deps.connectors, logger: deps.logger },
        },
        SiteSessionService,
        SiteAccountService,
        {
          provide: AccountDeletionService,
          inject: [SiteAccountService],
          useFactory: (accounts: SiteAccountService) => new AccountDeletionService(accounts, connections, users),
        },
      ],
    };
  }
}
