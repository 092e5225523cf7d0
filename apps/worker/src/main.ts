import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import {
  NestLoggerAdapter,
  type OwnedResource,
  closeOwnedResources,
  connectRedis,
  type Logger,
} from '@tributary/common';
import { runAppMain, type AppConfig } from '@tributary/config';
import { StatsRepository, openDatabase } from '@tributary/db';
import { JobService } from '@tributary/queue';
import { startWorkerHttpServer } from './http/worker-http.server';
import { createWorkerMetrics } from './http/worker-metrics.factory';
import { WorkerModule } from './worker.module';

async function bootstrap(config: AppConfig, logger: Logger): Promise<void> {
  const resources: OwnedResource[] = [];
  try {
    const redis = await connectRedis(config.redis, { onInfo: (msg, fields) => logger.info(fields ?? {}, msg) });
    resources.push({ name: 'redis', close: () => redis.close() });
    const database = await openDatabase(config.database, {
      applicationName: 'tributary-worker',
      log: (msg) => logger.info(msg),
    });
    resources.push({ name: 'postgres', close: () => database.close() });
    const jobs = new JobService(redis, config.redis.queuePrefix);
    resources.push({ name: 'queues', close: () => jobs.close() });
    const metrics = createWorkerMetrics({ jobs, database });

    const app = await NestFactory.createApplicationContext(
      WorkerModule.forRoot({
        config,
        logger,
        connection: redis,
        jobs,
        stats: new StatsRepository(database.db),
        database,
        resources,
        metrics,
      }),
      // abortOnError false: a boot failure must reach our handler (clear message, exit 1), not process.abort().
      { bufferLogs: true, abortOnError: false },
    );
    app.useLogger(new NestLoggerAdapter(logger));
    app.enableShutdownHooks();
    // After the workers started: a pod is ready only once it can take jobs. Closed first at shutdown (the resources
    // are closed in reverse order, after the workers drained), so probes keep answering during the drain.
    const http = await startWorkerHttpServer({
      ...config.observability.workerHttp,
      registry: metrics.registry,
      checks: { postgres: () => database.ping(), redis: () => redis.ping(1000) },
      logger,
      ...(config.observability.metricsToken === undefined ? {} : { metricsToken: config.observability.metricsToken }),
    });
    resources.push({ name: 'http', close: () => http.close() });
    logger.info({ url: http.url }, `worker probes and metrics on ${http.url}`);
  } catch (err) {
    await closeOwnedResources(resources);
    throw err;
  }
}

runAppMain('worker', bootstrap);
