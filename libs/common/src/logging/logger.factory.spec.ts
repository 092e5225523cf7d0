import { type DestinationStream } from 'pino';
import { createLogger, serializeRequest } from './logger.factory';
import { NestLoggerAdapter } from './nest-logger.adapter';
import { REDACTED, redactUrl, scrubText } from './redaction.util';
import { requestContext, resolveRequestId } from './request-context.util';

function capture(): { stream: DestinationStream; lines: string[]; records: () => Record<string, unknown>[] } {
  const lines: string[] = [];
  return {
    stream: { write: (line: string) => void lines.push(line) },
    lines,
    records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const SECRETS = {
  nestedToken: 'tok-nested-9f8e7d',
  deepPassword: 'pw-deep-1a2b3c',
  errorProp: 'err-prop-secret-77',
  causeSecret: 'cause-secret-55',
  oauthCode: 'oauthcode-0c0d0e',
  quotedJson: 'quoted-at-abc123',
  bearer: 'bearer-xyz-987654',
  redisPw: 'redis-pw-4242',
  clientSecret: 'client-secret-3131',
  arrayCookie: 'cookie-sess-6060',
};

describe('createLogger', () => {
  it('should never write a secret, at any depth, in errors, causes, messages or URLs', () => {
    const { stream, lines } = capture();
    const sut = createLogger({ destination: stream, level: 'trace' });

    sut.info({ user: { id: 'u1', profile: { credentials: { accessToken: SECRETS.nestedToken } } } }, 'connected');
    sut.info({ a: { b: { c: { d: { e: { password: SECRETS.deepPassword } } } } } });
    const cause = Object.assign(new TypeError('upstream said no'), { refresh_token: SECRETS.causeSecret });
    const err = Object.assign(new Error('token exchange failed', { cause }), {
      response: { data: { client_secret: SECRETS.clientSecret } },
      accessToken: SECRETS.errorProp,
    });
    sut.error({ err }, 'sync failed');
    sut.warn(`callback GET /auth/strava/callback?state=s1&code=${SECRETS.oauthCode}&scope=read`);
    sut.warn({ body: `Strava answered {"access_token":"${SECRETS.quotedJson}","expires_at":1}` }, 'bad answer');
    sut.debug(`sending Authorization: Bearer ${SECRETS.bearer}`);
    sut.info({ url: `redis://:${SECRETS.redisPw}@10.0.0.5:6379/0` }, 'redis');
    sut.info({ headers: { 'set-cookie': [`sid=${SECRETS.arrayCookie}; HttpOnly`] } });
    sut.child({ connection: { token: SECRETS.nestedToken } }).info('child binding');

    const all = lines.join('');
    expect(lines).toHaveLength(9);
    for (const [name, value] of Object.entries(SECRETS)) {
      expect({ name, leaked: all.includes(value) }).toEqual({ name, leaked: false });
    }
    expect(all).toContain(REDACTED);
  });

  it('should keep ordinary fields and messages readable', () => {
    const { stream, records } = capture();
    const sut = createLogger({ destination: stream, app: 'web' });
    sut.info({ userId: 'u-42', expiresAt: 1700000000, activityCount: 3, url: '/sync?page=2' }, 'sync done');
    const [record] = records();
    expect(record).toMatchObject({
      app: 'web',
      level: 30,
      msg: 'sync done',
      userId: 'u-42',
      expiresAt: 1700000000,
      activityCount: 3,
      url: '/sync?page=2',
    });
    expect(typeof record?.time).toBe('string');
  });

  it('should add the current request id to every line logged inside a request context', () => {
    const { stream, records } = capture();
    const sut = createLogger({ destination: stream });
    requestContext.run({ requestId: 'req-123' }, () => {
      sut.info('inside');
      sut.child({ component: 'x' }).warn('inside child');
    });
    sut.info('outside');
    expect(records().map((r) => r.reqId)).toEqual(['req-123', 'req-123', undefined]);
  });

  it('should respect the level', () => {
    const { stream, lines } = capture();
    const sut = createLogger({ destination: stream, level: 'warn' });
    sut.info('hidden');
    sut.warn('shown');
    expect(lines).toHaveLength(1);
  });
});

describe('serializeRequest', () => {
  it('should mask credential headers and query secrets', () => {
    const out = serializeRequest({
      id: 'r1',
      method: 'GET',
      url: `/auth/callback?code=${SECRETS.oauthCode}&state=abc`,
      headers: { authorization: `Bearer ${SECRETS.bearer}`, Cookie: 'sid=1', accept: 'application/json' },
    });
    expect(out).toEqual({
      id: 'r1',
      method: 'GET',
      url: `/auth/callback?code=${REDACTED}&state=abc`,
      headers: { authorization: REDACTED, Cookie: REDACTED, accept: 'application/json' },
      remoteAddress: undefined,
    });
  });
});

describe('redactUrl', () => {
  it('should hide the password of a connection URL and keep the rest', () => {
    expect(redactUrl('redis://:hunter2@cache.internal:6380/1')).toBe(`redis://:${REDACTED}@cache.internal:6380/1`);
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });

  it('should fall back to text scrubbing for unparsable input', () => {
    expect(scrubText('not a url token=abc')).toBe(`not a url token=${REDACTED}`);
    expect(redactUrl('::nonsense token=abcd')).not.toContain('abcd');
  });
});

describe('resolveRequestId', () => {
  it('should honour a safe incoming id and replace unsafe or missing ones', () => {
    expect(resolveRequestId('abc-123')).toBe('abc-123');
    expect(resolveRequestId(['first', 'second'])).toBe('first');
    expect(resolveRequestId('has space\nnewline')).toMatch(/^[0-9a-f-]{36}$/);
    expect(resolveRequestId('x'.repeat(129))).toMatch(/^[0-9a-f-]{36}$/);
    expect(resolveRequestId(undefined)).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe(NestLoggerAdapter.name, () => {
  it('should map Nest calls to pino levels with context and stack', () => {
    const { stream, records } = capture();
    const sut = new NestLoggerAdapter(createLogger({ destination: stream, level: 'trace' }));
    sut.log('started', 'NestApplication');
    sut.error('boom', 'Error: boom\n    at x', 'ExceptionsHandler');
    sut.warn({ accessToken: SECRETS.nestedToken }, 'Ctx');
    sut.verbose('fine');
    const out = records();
    expect(out[0]).toMatchObject({ level: 30, msg: 'started', context: 'NestApplication' });
    expect(out[1]).toMatchObject({
      level: 50,
      msg: 'boom',
      context: 'ExceptionsHandler',
      stack: 'Error: boom\n    at x',
    });
    expect(out[2]).toMatchObject({ level: 40, context: 'Ctx', data: { accessToken: REDACTED } });
    expect(out[3]).toMatchObject({ level: 10, msg: 'fine' });
  });
});
