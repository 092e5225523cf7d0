import OAuth2Strategy from 'passport-oauth2';
import { ConfigError } from '@tributary/common';
import { type AuthorizedAccount, type JsonObject, type ServiceConnector } from '../service-connector.interface';

export interface OAuth2StrategyOptions {
  callbackURL: string;
  /** passport-oauth2 state handling; `true` needs a session store (express-session). */
  state?: boolean;
  store?: OAuth2Strategy.StateStore;
}

/**
 * A passport-oauth2 Strategy for one OAuth service. Passport does the redirect and the code exchange; the
 * connector turns the token response into stored credentials and the account id, handed to passport as `user`.
 */
export function createOAuth2Strategy(connector: ServiceConnector, options: OAuth2StrategyOptions): OAuth2Strategy {
  const auth = connector.auth;
  if (auth.kind !== 'oauth2') {
    throw new ConfigError(`${connector.id} does not use OAuth2`, { service: connector.id });
  }
  const complete = connector.completeOAuth?.bind(connector);
  if (auth.clientId === undefined || auth.clientSecret === undefined || complete === undefined) {
    throw new ConfigError(`${connector.id}: OAuth client id and secret are not configured`, { service: connector.id });
  }
  const strategy = new OAuth2Strategy(
    {
      authorizationURL: auth.authorizationURL,
      tokenURL: auth.tokenURL,
      clientID: auth.clientId,
      clientSecret: auth.clientSecret,
      callbackURL: options.callbackURL,
      scope: auth.scope,
      scopeSeparator: auth.scopeSeparator,
      state: options.state ?? false,
      store: options.store,
      skipUserProfile: true,
      passReqToCallback: true,
    },
    (
      req: { query?: Record<string, unknown> },
      accessToken: string,
      refreshToken: string,
      params: JsonObject,
      _profile: unknown,
      done: OAuth2Strategy.VerifyCallback,
    ) => {
      try {
        // Strava reports what the user actually granted (they may untick scopes) on the redirect, not in the token
        // response; the connector checks it either way.
        const granted = req.query?.scope;
        const withScope =
          params.scope === undefined && typeof granted === 'string' ? { ...params, scope: granted } : params;
        const account: AuthorizedAccount = complete(
          accessToken,
          refreshToken === '' ? undefined : refreshToken,
          withScope,
        );
        done(null, { service: connector.id, ...account });
      } catch (err) {
        done(err);
      }
    },
  );
  strategy.name = connector.id;
  const extra = auth.authorizationParams;
  strategy.authorizationParams = () => ({ ...extra });
  return strategy;
}
