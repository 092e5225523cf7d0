import { Keyring, type RedisConnection, connectRedis, createLogger, type Logger } from '@tributary/common';
import { type AppConfig, loadConfig } from '@tributary/config';
import { ConnectorRegistry, RedisRateLimiter, createConnectors } from '@tributary/connectors';
import { type Database, type Repositories, createRepositories, openDatabase } from '@tributary/db';

export interface CliContext {
  config: AppConfig;
  database: Database;
  repos: Repositories;
  logger: Logger;
  close(): Promise<void>;
}

export interface OnlineCliContext extends CliContext {
  redis: RedisConnection;
  /** Connectors sharing the workers' Redis rate limits, so an operator's listing cannot exhaust a provider quota. */
  registry: ConnectorRegistry;
}

/** Where commands write: stdout for results (JSON with --json), stderr for progress and warnings. */
export interface CliIo {
  env?: NodeJS.ProcessEnv;
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

/** Database (migrated, like every process at boot) and repositories; credentials readable when keys are set. */
export async function openCli(env: NodeJS.ProcessEnv = process.env): Promise<CliContext> {
  const config = loadConfig(env);
  // Logs go to stderr at warn: stdout belongs to the command's output.
  const logger = createLogger({ level: 'warn', app: 'cli', destination: process.stderr });
  const database = await openDatabase(config.database, { applicationName: 'tributary-cli', poolSize: 3 });
  const keyring = config.encryptionKeys.length > 0 ? new Keyring(config.encryptionKeys) : null;
  return { config, database, repos: createRepositories(database.db, keyring), logger, close: () => database.close() };
}

/** openCli plus Redis and live connectors, for commands that talk to the services or the queue. */
export async function openOnlineCli(env: NodeJS.ProcessEnv = process.env): Promise<OnlineCliContext> {
  const base = await openCli(env);
  let redis: RedisConnection;
  try {
    redis = await connectRedis(base.config.redis);
  } catch (err) {
    await base.close();
    throw err;
  }
  const limiter = new RedisRateLimiter(redis.createClient('rate-limit'), {
    prefix: `${base.config.redis.queuePrefix}:ratelimit:`,
  });
  const registry = new ConnectorRegistry(createConnectors(base.config.services, { limiter }));
  return {
    ...base,
    redis,
    registry,
    close: async () => {
      await base.close();
      await redis.close();
    },
  };
}
