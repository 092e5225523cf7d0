import type { Server } from 'node:http';
import { Controller, Get, Param, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { createLogger } from '@tributary/common';
import { loadConfig } from '@tributary/config';
import { WebModule } from '../web.module';
import { createWebMetrics } from './web-metrics.factory';

@Controller('things')
class ThingsController {
  @Get(':id')
  one(@Param('id') id: string): { id: string } {
    return { id };
  }
}

async function buildApp(env: Record<string, string> = {}): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      WebModule.forRoot({
        config: loadConfig(env),
        logger: createLogger({ level: 'silent' }),
        checks: { postgres: () => Promise.resolve(), redis: () => Promise.resolve() },
        metrics: createWebMetrics({ processMetrics: false }),
      }),
    ],
    controllers: [ThingsController],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return app;
}

describe('web /metrics', () => {
  describe('without a token', () => {
    let app: INestApplication;
    const http = (): Server => app.getHttpServer() as Server;

    beforeAll(async () => {
      app = await buildApp();
    });

    afterAll(() => app.close());

    it('should count requests by route pattern, not by URL', async () => {
      await request(http()).get('/things/a1').expect(200);
      await request(http()).get('/things/b2').expect(200);
      await request(http()).get('/no/such/page').expect(404);

      const res = await request(http()).get('/metrics').expect(200);

      expect(res.headers['content-type']).toContain('text/plain');
      expect(res.text).toContain('tributary_http_requests_total{method="GET",route="/things/:id",status="200"} 2');
      expect(res.text).toContain('tributary_http_requests_total{method="GET",route="unmatched",status="404"} 1');
      expect(res.text).not.toContain('a1');
      expect(res.text).toContain('tributary_process_info{role="web"');
    });
  });

  describe('with TRIBUTARY_METRICS_TOKEN', () => {
    const token = 'scrape-token-0123456789';
    let app: INestApplication;
    const http = (): Server => app.getHttpServer() as Server;

    beforeAll(async () => {
      app = await buildApp({ TRIBUTARY_METRICS_TOKEN: token });
    });

    afterAll(() => app.close());

    it('should refuse a scrape without the bearer token and serve one with it', async () => {
      const refused = await request(http()).get('/metrics').expect(401);
      expect(refused.headers['www-authenticate']).toContain('Bearer');
      expect(refused.text).not.toContain('tributary_');
      await request(http()).get('/metrics').set('Authorization', 'Bearer wrong-token-0123456789').expect(401);

      const res = await request(http()).get('/metrics').set('Authorization', `Bearer ${token}`).expect(200);
      expect(res.text).toContain('tributary_http_requests_total');
    });
  });
});
