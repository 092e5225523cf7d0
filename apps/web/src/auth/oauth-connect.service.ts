import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import passport from 'passport';
import type OAuth2Strategy from 'passport-oauth2';
import { PermanentError, describeError } from '@tributary/common';
import { type AppConfig } from '@tributary/config';
import {
  type AuthorizedAccount,
  ConnectorRegistry,
  type ServiceConnector,
  createOAuth2Strategy,
} from '@tributary/connectors';
import { SessionRepository } from '@tributary/db';
import { APP_CONFIG } from '../web.tokens';
import './site-request.types';

/** How long a user may spend on the provider's consent page. */
export const OAUTH_STATE_TTL_MS = 10 * 60_000;

/** Something other than an Error came out of passport; kept as a typed error with its description. */
export class OAuthFlowError extends PermanentError {
  constructor(message: string) {
    super('oauth_flow', message);
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new OAuthFlowError(describeError(err));
}

export type OAuthOutcome =
  | { kind: 'account'; account: AuthorizedAccount & { service: string } }
  | { kind: 'refused'; status: number; reason: 'state_mismatch' | 'denied' | 'no_code'; message: string };

/** True when the website can start connecting this service by OAuth (client id and secret configured). */
export function isOAuthConnectable(connector: ServiceConnector): boolean {
  return (
    connector.auth.kind === 'oauth2' &&
    connector.auth.clientId !== undefined &&
    connector.auth.clientSecret !== undefined &&
    connector.completeOAuth !== undefined
  );
}

/**
 * OAuth `state` bound to the hub session: a fresh random value per attempt, stored hashed on the session row and
 * consumed on the callback, so a callback from another browser (login CSRF) or a replayed one is refused.
 */
class SessionStateStore {
  constructor(
    private readonly sessions: SessionRepository,
    private readonly service: string,
  ) {}

  store(req: Request, callback: (err: Error | null, state?: string) => void): void {
    const session = req.siteSession;
    if (session === undefined) return callback(new OAuthFlowError('OAuth started without a session'));
    const state = randomBytes(32).toString('base64url');
    this.sessions.setOAuthState(session.id, this.service, state, OAUTH_STATE_TTL_MS).then(
      () => callback(null, state),
      (err: Error) => callback(err),
    );
  }

  verify(req: Request, state: string, callback: (err: Error | null, ok: boolean, info?: unknown) => void): void {
    const session = req.siteSession;
    if (session === undefined || typeof state !== 'string' || state === '') {
      return callback(null, false, { message: 'state_mismatch' });
    }
    this.sessions.consumeOAuthState(session.id, this.service, state).then(
      (ok) => callback(null, ok, ok ? undefined : { message: 'state_mismatch' }),
      (err: Error) => callback(err, false),
    );
  }
}

/** Runs the passport-oauth2 strategies of the OAuth connectors on a private passport instance (no global state). */
@Injectable()
export class OAuthConnectService {
  private readonly authenticator = new passport.Passport();
  private readonly registered = new Set<string>();
  private readonly publicUrl: string;

  constructor(
    private readonly registry: ConnectorRegistry,
    private readonly sessions: SessionRepository,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.publicUrl = config.web.publicUrl.replace(/\/+$/, '');
  }

  callbackUrl(service: string): string {
    return `${this.publicUrl}/connect/${service}/callback`;
  }

  /** Redirects the browser to the provider's consent page (passport writes the 302). */
  start(service: string, req: Request, res: Response): Promise<void> {
    const name = this.strategyFor(service);
    return new Promise((resolve, reject) => {
      const next: NextFunction = (err?: unknown) => (err ? reject(asError(err)) : resolve());
      const middleware = this.authenticator.authenticate(name, { session: false }, (err: unknown) =>
        err ? reject(asError(err)) : resolve(),
      ) as (req: Request, res: Response, next: NextFunction) => void;
      res.once('finish', () => resolve());
      middleware(req, res, next);
    });
  }

  /** Verifies the state and exchanges the code; the connector turns the token response into an account. */
  finish(service: string, req: Request, res: Response): Promise<OAuthOutcome> {
    const name = this.strategyFor(service);
    const query = req.query;
    if (typeof query.error === 'string') {
      return Promise.resolve({
        kind: 'refused',
        status: 403,
        reason: 'denied',
        message: 'The service did not grant access, so nothing was connected.',
      });
    }
    if (typeof query.code !== 'string') {
      return Promise.resolve({
        kind: 'refused',
        status: 400,
        reason: 'no_code',
        message: 'This address is only for the service to send you back to. Start again from the start page.',
      });
    }
    return new Promise((resolve, reject) => {
      const next: NextFunction = (err?: unknown) =>
        reject(err === undefined ? new OAuthFlowError('OAuth callback fell through') : asError(err));
      const middleware = this.authenticator.authenticate(
        name,
        { session: false },
        (err: unknown, user: (AuthorizedAccount & { service: string }) | false) => {
          if (err) return reject(asError(err));
          if (user === false) {
            return resolve({
              kind: 'refused',
              status: 403,
              reason: 'state_mismatch',
              message:
                'This sign-in link was not started in this browser, was already used or has expired. ' +
                'Nothing was connected. Start again from the start page.',
            });
          }
          resolve({ kind: 'account', account: user });
        },
      ) as (req: Request, res: Response, next: NextFunction) => void;
      middleware(req, res, next);
    });
  }

  private strategyFor(service: string): string {
    if (!this.registered.has(service)) {
      const strategy = createOAuth2Strategy(this.registry.get(service), {
        callbackURL: this.callbackUrl(service),
        // The store's methods match passport-oauth2's 2- and 3-argument forms, picked at run time by arity.
        store: new SessionStateStore(this.sessions, service) as unknown as OAuth2Strategy.StateStore,
      });
      this.authenticator.use(service, strategy);
      this.registered.add(service);
    }
    return service;
  }
}
