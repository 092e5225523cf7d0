import { NotFoundError } from '@tributary/common';
import { loadConfig } from '@tributary/config';
import { ConnectorRegistry, createConnectors } from './connector.registry';
import { UnlimitedRateLimiter } from './rate-limit/rate-limiter';
import { createOAuth2Strategy } from './oauth/oauth2-strategy.factory';
import { StravaConnector } from './strava/strava.connector';
import { fakeCodec } from './testing/connector-test.util';
import { FakeHttpServer } from './testing/fake-http.server';

describe(ConnectorRegistry.name, () => {
  const services = loadConfig({
    STRAVA_BASE_URL: 'http://sandbox:4000/strava',
    STRAVA_CLIENT_ID: '42',
    STRAVA_CLIENT_SECRET: 's',
    DROPBOX_BASE_URL: 'http://sandbox:4000/dropbox-api',
    DROPBOX_CLIENT_ID: 'k',
    DROPBOX_CLIENT_SECRET: 'ds',
    LOCAL_FOLDER_ROOT: '/srv/activities',
  }).services;

  it('should build every configured connector, pointed at the configured base URLs', () => {
    const sut = new ConnectorRegistry(createConnectors(services, { limiter: new UnlimitedRateLimiter() }));
    expect(sut.all().map((c) => c.id)).toEqual(['strava', 'garmin_connect', 'dropbox', 'local_folder']);
    expect(sut.get('strava').auth).toMatchObject({
      kind: 'oauth2',
      authorizationURL: 'http://sandbox:4000/strava/oauth/authorize',
      tokenURL: 'http://sandbox:4000/strava/oauth/token',
      scope: ['activity:read_all', 'activity:write'],
    });
    expect(sut.get('dropbox').auth).toMatchObject({ tokenURL: 'http://sandbox:4000/dropbox-api/oauth2/token' });
    expect(() => sut.get('runkeeper')).toThrow(NotFoundError);
  });

  it('should leave out the local folder service without LOCAL_FOLDER_ROOT', () => {
    const sut = new ConnectorRegistry(
      createConnectors({ ...services, localFolder: {} }, { limiter: new UnlimitedRateLimiter() }),
    );
    expect(sut.has('local_folder')).toBe(false);
  });

  it('should build a passport strategy named after the service with its authorize parameters', () => {
    const registry = new ConnectorRegistry(createConnectors(services, { limiter: new UnlimitedRateLimiter() }));
    const strategy = createOAuth2Strategy(registry.get('dropbox'), { callbackURL: 'http://localhost/cb' });
    expect(strategy.name).toBe('dropbox');
    expect(strategy.authorizationParams({})).toEqual({ token_access_type: 'offline' });
    expect(() => createOAuth2Strategy(registry.get('garmin_connect'), { callbackURL: 'x' })).toThrow(/OAuth2/);
  });
});

describe('createOAuth2Strategy', () => {
  it('should exchange the code through passport-oauth2 and hand the stored credentials to passport', async () => {
    const server = await new FakeHttpServer().start();
    try {
      server.on('POST', '/oauth/token', (req) => {
        const form = new URLSearchParams(req.text);
        expect(form.get('code')).toBe('the-code');
        expect(form.get('grant_type')).toBe('authorization_code');
        return {
          json: {
            token_type: 'Bearer',
            access_token: 'acc',
            refresh_token: 'ref',
            expires_at: 1900000000,
            expires_in: 21600,
            athlete: { id: 777, firstname: 'Ada' },
          },
        };
      });
      const strava = new StravaConnector(
        { baseUrl: server.url, clientId: '42', clientSecret: 's' },
        { limiter: new UnlimitedRateLimiter(), codec: fakeCodec },
      );
      const strategy = createOAuth2Strategy(strava, { callbackURL: 'http://localhost/auth/strava/callback' });
      const user = await new Promise<unknown>((resolve, reject) => {
        strategy.success = (u: unknown) => resolve(u);
        strategy.fail = (info: unknown) => reject(new TypeError(JSON.stringify(info)));
        strategy.error = (err: Error) => reject(err);
        strategy.authenticate({ query: { code: 'the-code' }, url: '/auth/strava/callback', headers: {} } as never, {});
      });
      expect(user).toEqual({
        service: 'strava',
        externalUserId: '777',
        displayName: 'Ada',
        credentials: { accessToken: 'acc', refreshToken: 'ref', expiresAt: 1900000000 },
      });
    } finally {
      await server.stop();
    }
  });
});
