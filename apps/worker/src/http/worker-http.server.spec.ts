import { createLogger, createMetricsRegistry } from '@tributary/common';
import { Counter } from 'prom-client';
import { startWorkerHttpServer, type WorkerHttpServer } from './worker-http.server';

describe(startWorkerHttpServer.name, () => {
  const TOKEN = 'metrics-token-for-tests-0123';
  const checks = { postgres: () => Promise.resolve(), redis: () => Promise.resolve() };
  let server: WorkerHttpServer;

  beforeAll(async () => {
    const registry = createMetricsRegistry({ role: 'worker', processMetrics: false });
    new Counter({ name: 'tributary_test_total', help: 'test', registers: [registry] }).inc(3);
    server = await startWorkerHttpServer({
      port: 0,
      host: '127.0.0.1',
      registry,
      checks: { postgres: () => checks.postgres(), redis: () => checks.redis() },
      logger: createLogger({ level: 'silent' }),
      metricsToken: TOKEN,
    });
  });

  afterAll(() => server.close());

  afterEach(() => {
    checks.postgres = () => Promise.resolve();
    checks.redis = () => Promise.resolve();
  });

  it('should answer liveness without looking at dependencies', async () => {
    checks.postgres = () => Promise.reject(new TypeError('down'));
    const res = await fetch(`${server.url}/health/live`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('should be ready when Postgres and Redis answer', async () => {
    const res = await fetch(`${server.url}/health/ready`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', checks: { postgres: 'ok', redis: 'ok' } });
  });

  it('should answer 503 naming the failing check, without its reason', async () => {
    checks.redis = () => Promise.reject(new TypeError('connect ECONNREFUSED 10.0.0.7:6379'));
    const res = await fetch(`${server.url}/health/ready`);
    expect(res.status).toBe(503);
    const body = await res.text();
    expect(JSON.parse(body)).toEqual({ status: 'unavailable', checks: { postgres: 'ok', redis: 'unavailable' } });
    expect(body).not.toContain('10.0.0.7');
  });

  it('should serve the metrics only with the bearer token', async () => {
    const anonymous = await fetch(`${server.url}/metrics`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toContain('Bearer');

    const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(await res.text()).toContain('tributary_test_total 3');
  });

  it('should refuse other paths and methods', async () => {
    expect((await fetch(`${server.url}/admin`)).status).toBe(404);
    expect((await fetch(`${server.url}/metrics`, { method: 'POST' })).status).toBe(405);
  });
});
