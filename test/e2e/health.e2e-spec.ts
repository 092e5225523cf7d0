import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Server } from 'node:http';
import request from 'supertest';
import { connectRedis, createLogger, type RedisConnection } from '@tributary/common';
import { loadConfig } from '@tributary/config';
import { createDatabase, type Database } from '@tributary/db';
import { type ReadinessReport } from '../../apps/web/src/health/readiness.service';
import { WebModule } from '../../apps/web/src/web.module';

const ROOT = resolve(__dirname, '../..');
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const DEAD_REDIS = 'redis://127.0.0.1:1';

/** Runs the real web entry point (TypeScript, compiled on load) and collects its exit code and output. */
function runWebMain(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--require', './scripts/register-ts.js', 'apps/web/src/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(killer);
      done({ code, stdout, stderr });
    });
  });
}

describe('web health (e2e)', () => {
  let redis: RedisConnection;
  let database: Database;
  let app: INestApplication;
  const http = (): Server => app.getHttpServer() as Server;

  beforeAll(async () => {
    // A private server, so the test can take Redis away without touching the shared one.
    redis = await connectRedis({ url: DEAD_REDIS, startPrivate: true }, { probeTimeoutMs: 500 });
    database = await createDatabase(
      { url: DATABASE_URL, poolSize: 2, dataDir: '.data', embeddedPort: 54329 },
      { applicationName: 'tributary-e2e' },
    );
    const moduleRef = await Test.createTestingModule({
      imports: [
        WebModule.forRoot({
          config: loadConfig({ DATABASE_URL }),
          logger: createLogger({ level: 'silent' }),
          checks: { postgres: () => database.ping(), redis: () => redis.ping(500) },
        }),
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
    await database?.close();
    await redis?.close();
  });

  it('should be live and ready against the real Postgres and Redis, echoing the request id', async () => {
    await request(http()).get('/health/live').expect(200, { status: 'ok' });
    const res = await request(http()).get('/health/ready').set('X-Request-Id', 'e2e-ready-1');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', checks: { postgres: 'ok', redis: 'ok' } });
    expect(res.headers['x-request-id']).toBe('e2e-ready-1');
  });

  it('should answer 503 naming Redis once Redis goes away, while staying live', async () => {
    const pid = redis.privateServer?.pid;
    expect(pid).toEqual(expect.any(Number));
    process.kill(pid as number, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
    const res = await request(http()).get('/health/ready').expect(503);
    const body = res.body as ReadinessReport;
    expect(body.status).toBe('unavailable');
    expect(body.checks.postgres).toBe('ok');
    expect(['unavailable', 'timeout']).toContain(body.checks.redis);
    await request(http()).get('/health/live').expect(200);
  });

  it('should exit 1 with a clear message when the configuration is invalid', async () => {
    const out = await runWebMain({ WEB_PORT: 'not-a-port', STRAVA_CLIENT_SECERT: 'x' });
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('tributary-web: Unknown configuration key(s): STRAVA_CLIENT_SECERT');
  });

  it('should exit 1 naming Redis when Redis is unreachable at boot', async () => {
    const out = await runWebMain({ REDIS_URL: DEAD_REDIS, DATABASE_URL });
    expect(out.code).toBe(1);
    const fatal = out.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; msg: string })
      .find((l) => l.level === 60);
    expect(fatal?.msg).toContain(
      'Redis is not reachable at redis://127.0.0.1:1: ECONNREFUSED. Start redis-server or set REDIS_URL',
    );
  });
});
