import { randomBytes } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { PermanentError } from '@tributary/common';
import {
  type ActivityCodec,
  type ConnectorContext,
  RateLimitedError,
  type RateBucket,
  RedisRateLimiter,
  StravaConnector,
} from '@tributary/connectors';

/** Listing never touches files; the codec only has to exist. */
const noCodec: ActivityCodec = {
  detectFormat: () => 'fit',
  decodeActivity: () => {
    throw new PermanentError('unused', 'not used by these tests');
  },
  encodeActivity: () => new Uint8Array(),
};

/** A Strava stand-in answering every request with one fixed reply and counting requests. */
class FixedReplyServer {
  requests = 0;
  url = '';
  private server?: Server;
  reply: { status: number; headers: Record<string, string>; body: string } = { status: 200, headers: {}, body: '[]' };

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      this.requests++;
      req.resume();
      req.on('end', () => {
        res.writeHead(this.reply.status, { 'content-type': 'application/json', ...this.reply.headers });
        res.end(this.reply.body);
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe(RedisRateLimiter.name, () => {
  const prefix = `test:${randomBytes(6).toString('hex')}:ratelimit:`;
  let redisA: Redis;
  let redisB: Redis;
  let workerA: RedisRateLimiter;
  let workerB: RedisRateLimiter;

  beforeAll(() => {
    redisA = new Redis(REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 1 });
    redisB = new Redis(REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 1 });
    workerA = new RedisRateLimiter(redisA, { prefix });
    workerB = new RedisRateLimiter(redisB, { prefix });
  });

  afterAll(async () => {
    const keys = await redisA.keys(`${prefix}*`);
    if (keys.length > 0) await redisA.del(...keys);
    redisA.disconnect();
    redisB.disconnect();
  });

  const bucket = (name: string, capacity: number, windowMs: number): RateBucket => ({
    key: name,
    capacity,
    windowMs,
    scope: 'global',
  });

  it('should share one budget between two workers', async () => {
    const b = bucket('shared', 5, 60_000);
    for (let i = 0; i < 3; i++) await workerA.acquire([b], { service: 's', maxWaitMs: 0 });
    for (let i = 0; i < 2; i++) await workerB.acquire([b], { service: 's', maxWaitMs: 0 });
    const errA = await workerA.acquire([b], { service: 's', maxWaitMs: 0 }).catch((e: unknown) => e);
    const errB = await workerB.acquire([b], { service: 's', maxWaitMs: 0 }).catch((e: unknown) => e);
    expect(errA).toBeInstanceOf(RateLimitedError);
    expect(errB).toBeInstanceOf(RateLimitedError);
    // One token refills every 12 s.
    expect((errA as RateLimitedError).retryAfterMs).toBeGreaterThan(11_000);
    expect((errA as RateLimitedError).retryAfterMs).toBeLessThanOrEqual(12_000);
  });

  it('should take all buckets of a request atomically or none', async () => {
    const roomy = bucket('roomy', 10, 60_000);
    const tight = bucket('tight', 1, 60_000);
    await workerA.acquire([roomy, tight], { service: 's', maxWaitMs: 0 });
    await expect(workerB.acquire([roomy, tight], { service: 's', maxWaitMs: 0 })).rejects.toBeInstanceOf(
      RateLimitedError,
    );
    const tokens = Number(await redisA.hget(`${prefix}roomy`, 'tokens'));
    expect(Math.round(tokens)).toBe(9);
  });

  it('should pace: wait for the next token instead of failing when the wait fits', async () => {
    const b = bucket('paced', 1, 300);
    await workerA.acquire([b], { service: 's', maxWaitMs: 0 });
    const started = Date.now();
    await workerB.acquire([b], { service: 's', maxWaitMs: 5_000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
  });

  it('should apply provider usage figures to the shared budget', async () => {
    const b = bucket('observed', 100, 900_000);
    await workerA.observe(b, 0, 60_000);
    const err = (await workerB
      .acquire([b], { service: 's', maxWaitMs: 0 })
      .catch((e: unknown) => e)) as RateLimitedError;
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(err.retryAfterMs).toBeGreaterThan(55_000);
    expect(err.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it('should block a bucket after a 429 and let waiting workers through once it expires', async () => {
    const b: RateBucket = { key: 'blocked', capacity: 100, windowMs: 60_000, scope: 'user' };
    await workerA.block([b], 400);
    const err = (await workerB
      .acquire([b], { service: 's', maxWaitMs: 0 })
      .catch((e: unknown) => e)) as RateLimitedError;
    expect(err).toMatchObject({ scope: 'user' });
    expect(err.retryAfterMs).toBeLessThanOrEqual(400);
    await expect(workerB.acquire([b], { service: 's', maxWaitMs: 5_000 })).resolves.toBeUndefined();
  });

  describe('driven by Strava headers', () => {
    let server: FixedReplyServer;
    beforeEach(async () => {
      server = await new FixedReplyServer().start();
    });
    afterEach(() => server.stop());

    const ctx = (): ConnectorContext => ({
      connectionId: 'c',
      credentials: { accessToken: 't', refreshToken: 'r', expiresAt: Date.now() / 1000 + 3600 },
      config: {},
      saveCredentials: () => Promise.resolve(),
    });

    it('should stop every worker once Strava reports the window spent', async () => {
      const sub = `${prefix}strava1:`;
      const a = new StravaConnector(
        { baseUrl: server.url, maxPaceMs: 0 },
        { limiter: new RedisRateLimiter(redisA, { prefix: sub }), codec: noCodec },
      );
      const b = new StravaConnector(
        { baseUrl: server.url, maxPaceMs: 0 },
        { limiter: new RedisRateLimiter(redisB, { prefix: sub }), codec: noCodec },
      );
      server.reply = {
        status: 200,
        body: '[]',
        headers: {
          'X-RateLimit-Limit': '200,2000',
          'X-RateLimit-Usage': '120,500',
          'X-ReadRateLimit-Limit': '100,1000',
          'X-ReadRateLimit-Usage': '100,400',
        },
      };
      await a.listActivities(ctx(), { exhaustive: true });
      const err = await b.listActivities(ctx(), { exhaustive: true }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RateLimitedError);
      expect(server.requests).toBe(1);
    });

    it('should block every worker after a 429 until the window resets', async () => {
      const sub = `${prefix}strava2:`;
      const a = new StravaConnector(
        { baseUrl: server.url, maxPaceMs: 0 },
        { limiter: new RedisRateLimiter(redisA, { prefix: sub }), codec: noCodec },
      );
      const b = new StravaConnector(
        { baseUrl: server.url, maxPaceMs: 0 },
        { limiter: new RedisRateLimiter(redisB, { prefix: sub }), codec: noCodec },
      );
      server.reply = {
        status: 429,
        body: '{"message":"Rate Limit Exceeded"}',
        headers: { 'X-RateLimit-Limit': '200,2000', 'X-RateLimit-Usage': '201,600' },
      };
      await expect(a.listActivities(ctx(), { exhaustive: true })).rejects.toBeInstanceOf(RateLimitedError);
      const err = (await b.listActivities(ctx(), { exhaustive: true }).catch((e: unknown) => e)) as RateLimitedError;
      expect(err).toBeInstanceOf(RateLimitedError);
      expect(err.retryAfterMs).toBeGreaterThan(0);
      expect(err.retryAfterMs).toBeLessThanOrEqual(15 * 60_000);
      expect(server.requests).toBe(1);
    });
  });
});
