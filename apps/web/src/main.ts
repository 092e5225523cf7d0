import 'reflect-metadata';
import type { Server } from 'node:http';
import { NestFactory } from '@nestjs/core';
import {
  NestLoggerAdapter,
  type OwnedResource,
  closeOwnedResources,
  connectRedis,
  Keyring,
  redactUrl,
  type Logger,
} from '@tributary/common';
import { runAppMain, type AppConfig } from '@tributary/config';
import { ConnectorRegistry, RedisRateLimiter, createConnectors } from '@tributary/connectors';
import { openDatabase } from '@tributary/db';
import { JobService } from '@tributary/queue';
import { createWebMetrics } from './metrics/web-metrics.factory';
import { setupOpenApi } from './openapi/openapi.setup';
import { WebModule } from './web.module';

async function bootstrap(config: AppConfig, logger: Logger): Promise<void> {
  const resources: OwnedResource[] = [];
  try {
    const redis = await connectRedis(config.redis, { onInfo: (msg, fields) => logger.info(fields ?? {}, msg) });
    resources.push({ name: 'redis', close: () => redis.close() });
    const database = await openDatabase(config.database, {
      applicationName: 'tributary-web',
      log: (msg) => logger.info(msg),
    });
    resources.push({ name: 'postgres', close: () => database.close() });
    const jobs = new JobService(redis, config.redis.queuePrefix);
    resources.push({ name: 'queues', close: () => jobs.close() });
    // Without keys the site still serves pages; connecting a service then fails with a clear configuration error.
    const keyring = config.encryptionKeys.length > 0 ? new Keyring(config.encryptionKeys) : null;
    // Same key prefix as the sync worker: provider limits (Strava's are per app) are shared by every process.
    const metrics = createWebMetrics();
    const limiter = new RedisRateLimiter(redis.createClient('rate-limit'), {
      prefix: `${config.redis.queuePrefix}:ratelimit:`,
      onBudget: metrics.connectors.observeBudget,
    });
    const connectors = new ConnectorRegistry(
      createConnectors(config.services, { limiter, observer: metrics.connectors.observeRequest }),
    );

    const app = await NestFactory.create(
      WebModule.forRoot({
        config,
        logger,
        jobs,
        resources,
        metrics,
        site: { database, keyring, connectors },
        checks: { postgres: () => database.ping(), redis: () => redis.ping(1000) },
      }),
      // abortOnError false: a boot failure must reach our handler (clear message, exit 1), not process.abort().
      // rawBody: webhook signatures (Dropbox) are computed over the exact bytes received.
      { bufferLogs: true, abortOnError: false, rawBody: true },
    );
    app.useLogger(new NestLoggerAdapter(logger));
    app.enableShutdownHooks();
    setupOpenApi(app);
    await app.listen(config.web.port, config.web.host);
    const address = (app.getHttpServer() as Server).address();
    const port = typeof address === 'object' && address !== null ? address.port : config.web.port;
    const url = `http://${config.web.host}:${port}`;
    logger.info({ url, database: database.kind, redis: redactUrl(redis.url) }, `Tributary web listening on ${url}`);
  } catch (err) {
    await closeOwnedResources(resources);
    throw err;
  }
}

runAppMain('web', bootstrap);
