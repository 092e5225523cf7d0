import { type DynamicModule, type MiddlewareConsumer, Module, type NestModule, RequestMethod } from '@nestjs/common';
import { type Keyring, type Logger } from '@tributary/common';
import { type AppConfig } from '@tributary/config';
import { type JobService } from '@tributary/queue';
import { ConnectorRegistry } from '@tributary/connectors';
import {
  AccountRepository,
  ConnectionRepository,
  type Database,
  SessionRepository,
  UserRepository,
} from '@tributary/db';
import { CredentialsLoginService, SITE_KEYRING } from '../auth/credentials-login.service';
import { CsrfMiddleware } from '../auth/csrf.middleware';
import { OAuthConnectService } from '../auth/oauth-connect.service';
import { SessionMiddleware } from '../auth/session.middleware';
import { SITE_JOBS, SiteAccountService } from '../auth/site-account.service';
import { SiteSessionService } from '../auth/site-session.service';
import { APP_CONFIG, ROOT_LOGGER } from '../web.tokens';
import { SiteController } from './site.controller';

/** What the website needs that main.ts opens before Nest starts. */
export interface SiteDependencies {
  database: Database;
  /** Null: the hub cannot store credentials, so connecting services fails with a configuration error. */
  keyring: Keyring | null;
  connectors: ConnectorRegistry;
}

/**
 * The website and its sessions. The session and CSRF middleware run for every route of the app (so JSON APIs of
 * other modules get `req.user` and CSRF protection too); webhooks and health checks are exempt.
 */
@Module({})
export class SiteModule implements NestModule {
  static forRoot(deps: SiteDependencies & { config: AppConfig; logger: Logger; jobs?: JobService }): DynamicModule {
    const db = deps.database.db;
    return {
      module: SiteModule,
      controllers: [SiteController],
      providers: [
        { provide: APP_CONFIG, useValue: deps.config },
        { provide: ROOT_LOGGER, useValue: deps.logger },
        { provide: ConnectorRegistry, useValue: deps.connectors },
        { provide: SessionRepository, useValue: new SessionRepository(db) },
        { provide: UserRepository, useValue: new UserRepository(db) },
        { provide: ConnectionRepository, useValue: new ConnectionRepository(db, deps.keyring) },
        { provide: AccountRepository, useValue: new AccountRepository(db) },
        { provide: SITE_KEYRING, useValue: deps.keyring },
        { provide: SITE_JOBS, useValue: deps.jobs ?? null },
        SiteSessionService,
        OAuthConnectService,
        CredentialsLoginService,
        SiteAccountService,
      ],
      exports: [SiteSessionService],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(SessionMiddleware, CsrfMiddleware).forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }
}
