import { Controller, Get, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Server } from 'node:http';
import request from 'supertest';
import { type DestinationStream } from 'pino';
import { NotFoundError, RetryableError, ValidationError, createLogger, PermanentError } from '@tributary/common';
import { loadConfig } from '@tributary/config';
import { type ReadinessChecks } from './health/readiness.service';
import { type ErrorBody } from './middleware/global-exception.filter';
import { WebModule } from './web.module';

const SECRET = 'sk-live-abcdef123456';

@Controller('boom')
class ThrowingController {
  @Get('validation')
  validation(): never {
    throw new ValidationError('start must be a date', { field: 'start' });
  }

  @Get('not-found')
  notFound(): never {
    throw new NotFoundError('Activity', 'a1');
  }

  @Get('retryable')
  retryable(): never {
    throw new RetryableError('upstream_unavailable', 'Strava is down');
  }

  @Get('permanent')
  permanent(): never {
    throw new PermanentError('unsupported_format', 'PWX cannot be uploaded to Strava');
  }

  @Get('unknown')
  unknown(): never {
    throw new TypeError(`cannot read property of undefined (password=${SECRET})`);
  }
}

describe(WebModule.name, () => {
  let app: INestApplication;
  const http = (): Server => app.getHttpServer() as Server;
  let lines: string[];
  const checks: { postgres: () => Promise<void>; redis: () => Promise<void> } = {
    postgres: () => Promise.resolve(),
    redis: () => Promise.resolve(),
  };

  beforeAll(async () => {
    lines = [];
    const destination: DestinationStream = { write: (l: string) => void lines.push(l) };
    const moduleRef = await Test.createTestingModule({
      imports: [
        WebModule.forRoot({
          config: loadConfig({}),
          logger: createLogger({ destination, level: 'debug' }),
          checks: { postgres: () => checks.postgres(), redis: () => checks.redis() } satisfies ReadinessChecks,
        }),
      ],
      controllers: [ThrowingController],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });

  afterAll(async () => {
    await app.close();
  });

  beforeEach(() => {
    lines.length = 0;
    checks.postgres = () => Promise.resolve();
    checks.redis = () => Promise.resolve();
  });

  const logged = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

  it('should answer liveness', async () => {
    await request(http()).get('/health/live').expect(200, { status: 'ok' });
  });

  it('should report ready when every check passes', async () => {
    await request(http())
      .get('/health/ready')
      .expect(200, { status: 'ok', checks: { postgres: 'ok', redis: 'ok' } });
  });

  it('should answer 503 naming the failing and the hung check', async () => {
    checks.redis = () => Promise.reject(new Error('ECONNREFUSED 127.0.0.1:6379'));
    checks.postgres = () => new Promise(() => undefined);
    const started = Date.now();
    await request(http())
      .get('/health/ready')
      .expect(503, { status: 'unavailable', checks: { postgres: 'timeout', redis: 'unavailable' } });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(logged().find((l) => l.check === 'redis')).toMatchObject({ msg: 'readiness check failed' });
  });

  it('should echo a safe incoming request id and put it on every log line of the request', async () => {
    const res = await request(http()).get('/boom/not-found').set('X-Request-Id', 'trace-abc-1').expect(404);
    expect(res.headers['x-request-id']).toBe('trace-abc-1');
    expect(res.body).toEqual({
      statusCode: 404,
      error: 'not_found',
      message: 'Activity a1 not found',
      requestId: 'trace-abc-1',
    });
    const requestLines = logged();
    expect(requestLines.length).toBeGreaterThan(0);
    expect(requestLines.every((l) => l.reqId === 'trace-abc-1')).toBe(true);
  });

  it('should generate a request id when none or an unsafe one is sent', async () => {
    const res = await request(http()).get('/health/live').set('X-Request-Id', 'bad id with spaces');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it.each([
    ['validation', 400, 'validation', { details: { field: 'start' } }],
    ['retryable', 503, 'upstream_unavailable', {}],
    ['permanent', 422, 'unsupported_format', {}],
  ])('should map %s domain errors to %d', async (path, status, code, extra) => {
    const res = await request(http()).get(`/boom/${path}`).expect(status);
    expect(res.body).toEqual({
      statusCode: status,
      error: code,
      message: expect.any(String) as unknown,
      requestId: expect.any(String) as unknown,
      ...extra,
    });
  });

  it('should hide unknown errors behind a generic 500 with an errorId that is logged', async () => {
    const res = await request(http()).get('/boom/unknown').expect(500);
    expect(res.body).toEqual({
      statusCode: 500,
      error: 'internal',
      message: 'Internal server error',
      requestId: expect.any(String) as unknown,
      errorId: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown,
    });
    const body = res.body as ErrorBody;
    const errorLine = logged().find((l) => l.errorId === body.errorId);
    expect(errorLine).toMatchObject({ level: 50, msg: 'unhandled error', reqId: body.requestId });
    expect(lines.join('')).not.toContain(SECRET);
  });

  it('should map unknown routes to 404', async () => {
    const res = await request(http()).get(`/nope?token=${SECRET}`).expect(404);
    expect(res.body).toMatchObject({
      statusCode: 404,
      error: 'http_404',
      message: 'Cannot GET /nope?token=[Redacted]',
    });
  });

  it('should never log credentials sent in request headers or the query string', async () => {
    await request(http())
      .get(`/boom/not-found?code=${SECRET}&state=xyz`)
      .set('Authorization', `Bearer ${SECRET}`)
      .set('Cookie', `session=${SECRET}`)
      .expect(404);
    const all = lines.join('');
    const requestLine = logged().find((l) => l.msg === 'request completed');
    expect(requestLine).toMatchObject({ req: { headers: { authorization: '[Redacted]', cookie: '[Redacted]' } } });
    expect((requestLine?.req as { url: string }).url).toBe('/boom/not-found?code=[Redacted]&state=xyz');
    expect(all).not.toContain(SECRET);
  });
});
