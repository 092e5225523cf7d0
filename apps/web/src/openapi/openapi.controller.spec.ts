import type { Server } from 'node:http';
import { Controller, Get, type INestApplication } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { createLogger } from '@tributary/common';
import { loadConfig } from '@tributary/config';
import { createWebMetrics } from '../metrics/web-metrics.factory';
import { WebModule } from '../web.module';
import { DOCS_ASSETS } from './swagger-ui.assets';
import { setupOpenApi } from './openapi.setup';

@ApiTags('things')
@Controller('api/things')
class ThingsApiController {
  @Get()
  @ApiOperation({ summary: 'List things' })
  @ApiOkResponse({ description: 'The things' })
  list(): string[] {
    return [];
  }
}

describe('OpenAPI document and docs page', () => {
  let app: INestApplication;
  const http = (): Server => app.getHttpServer() as Server;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        WebModule.forRoot({
          config: loadConfig({}),
          logger: createLogger({ level: 'silent' }),
          checks: { postgres: () => Promise.resolve(), redis: () => Promise.resolve() },
          metrics: createWebMetrics({ processMetrics: false }),
        }),
      ],
      controllers: [ThingsApiController],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    setupOpenApi(app);
    await app.init();
  });

  afterAll(() => app.close());

  it('should serve the document of the /api routes only', async () => {
    const res = await request(http()).get('/api/openapi.json').expect(200);
    const doc = res.body as { openapi: string; paths: Record<string, Record<string, { summary?: string }>> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.paths['/api/things']?.get?.summary).toBe('List things');
    // Probes, /metrics and the document's own routes are not API.
    expect(Object.keys(doc.paths).filter((p) => !p.startsWith('/api/'))).toEqual([]);
    expect(doc.paths['/api/openapi.json']).toBeUndefined();
  });

  it('should serve a docs page that loads only same-origin files', async () => {
    const res = await request(http()).get('/api/docs').expect(200);
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).not.toMatch(/unsafe-inline|https?:/);
    const sources = [...res.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(sources).toEqual([
      '/api/docs/swagger-ui.css',
      '/api/openapi.json',
      '/api/docs/swagger-ui-bundle.js',
      '/api/docs/docs-init.js',
    ]);
    expect(res.text).not.toMatch(/<script>|<style|style="/);
  });

  it('should serve the Swagger UI files from node_modules and nothing else under /api/docs', async () => {
    for (const asset of DOCS_ASSETS) {
      const res = await request(http()).get(`/api/docs/${asset}`).expect(200);
      expect(res.headers['content-type']).toMatch(asset.endsWith('.css') ? /text\/css/ : /text\/javascript/);
    }
    const init = await request(http()).get('/api/docs/docs-init.js').expect(200);
    expect(init.text).toContain("url: '/api/openapi.json'");
    await request(http()).get('/api/docs/package.json').expect(404);
    await request(http()).get('/api/docs/..%2F..%2Fpackage.json').expect(404);
  });
});
