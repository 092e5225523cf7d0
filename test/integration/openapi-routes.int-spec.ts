import { randomBytes } from 'node:crypto';
import { type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { type OpenAPIObject } from '@nestjs/swagger';
import { connectRedis, createLogger, Keyring, type RedisConnection } from '@tributary/common';
import { loadConfig } from '@tributary/config';
import { ConnectorRegistry, UnlimitedRateLimiter, createConnectors } from '@tributary/connectors';
import { type Database } from '@tributary/db';
import { JobService } from '@tributary/queue';
import { createWebMetrics } from '../../apps/web/src/metrics/web-metrics.factory';
import { setupOpenApi } from '../../apps/web/src/openapi/openapi.setup';
import { WebModule } from '../../apps/web/src/web.module';
import { createTestContext, type TestContext } from './support/test-db';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The routes that serve the document itself (and its page); everything else under /api must be in it. */
const UNDOCUMENTED: ReadonlySet<string> = new Set(['GET /api/openapi.json', 'GET /api/docs', 'GET /api/docs/{asset}']);

interface RouteLayer {
  route?: { path: unknown; methods: Record<string, boolean> };
}

/** Every `METHOD /path` the Express router of the app serves, in OpenAPI path syntax (`:id` → `{id}`). */
function registeredRoutes(app: INestApplication): string[] {
  const express = app.getHttpAdapter().getInstance() as { router: { stack: RouteLayer[] } };
  const routes: string[] = [];
  for (const layer of express.router.stack) {
    if (layer.route === undefined || typeof layer.route.path !== 'string') continue;
    const path = layer.route.path.replace(/:(\w+)/g, '{$1}');
    for (const [method, on] of Object.entries(layer.route.methods)) {
      if (on && method !== '_all') routes.push(`${method.toUpperCase()} ${path}`);
    }
  }
  return routes;
}

function documentedRoutes(document: OpenAPIObject): Set<string> {
  const out = new Set<string>();
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const) {
      if (item[method] !== undefined) out.add(`${method.toUpperCase()} ${path}`);
    }
  }
  return out;
}

/*
 * Builds the web app with every module main.ts wires (site, dashboard, activities, admin, webhooks, Sync now, …), so
 * any /api route another module adds shows up here and must carry its OpenAPI decorators.
 */
describe('OpenAPI document', () => {
  let ctx: TestContext;
  let redis: RedisConnection;
  let jobs: JobService;
  let app: INestApplication;
  let document: OpenAPIObject;

  beforeAll(async () => {
    ctx = createTestContext();
    redis = await connectRedis({ url: REDIS_URL, startPrivate: false });
    jobs = new JobService(redis, `test-${randomBytes(6).toString('hex')}`);
    const config = loadConfig({
      SESSION_SECRET: randomBytes(32).toString('hex'),
      TRIBUTARY_ENCRYPTION_KEYS: `oa:${randomBytes(32).toString('base64')}`,
    });
    const database: Database = {
      db: ctx.db,
      kind: 'server',
      ping: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
    const moduleRef = await Test.createTestingModule({
      imports: [
        WebModule.forRoot({
          config,
          logger: createLogger({ level: 'silent' }),
          jobs,
          metrics: createWebMetrics({ processMetrics: false }),
          checks: { postgres: () => Promise.resolve(), redis: () => Promise.resolve() },
          site: {
            database,
            keyring: new Keyring(config.encryptionKeys),
            connectors: new ConnectorRegistry(
              createConnectors(config.services, { limiter: new UnlimitedRateLimiter() }),
            ),
          },
        }),
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false, rawBody: true });
    document = setupOpenApi(app);
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
    await jobs?.close();
    await redis?.close();
    await ctx?.close();
  });

  it('should document every route under /api that the app serves', () => {
    const api = registeredRoutes(app).filter((r) => r.split(' ')[1]?.startsWith('/api/'));
    const documented = documentedRoutes(document);

    // Guards the guard: if route discovery broke, an empty list would pass vacuously.
    expect(api).toEqual(expect.arrayContaining(['POST /api/sync/now', 'GET /api/openapi.json']));
    expect(api.filter((r) => !UNDOCUMENTED.has(r) && !documented.has(r))).toEqual([]);
  });

  it('should document nothing the app does not serve, and describe each operation', () => {
    const served = new Set(registeredRoutes(app));
    const documented = [...documentedRoutes(document)];

    expect(documented.filter((r) => !served.has(r))).toEqual([]);
    for (const [path, item] of Object.entries(document.paths)) {
      for (const op of [item.get, item.post, item.put, item.patch, item.delete]) {
        if (op === undefined) continue;
        const described = { path, summary: (op.summary ?? '').trim() !== '' };
        const succeeds = { path, success: Object.keys(op.responses).some((status) => /^2\d\d$/.test(status)) };
        expect(described).toEqual({ path, summary: true });
        expect(succeeds).toEqual({ path, success: true });
      }
    }
  });
});
