import { type Logger, createLogger, describeError, ConfigError } from '@tributary/common';
import { type AppConfig, loadConfig } from './config';

/**
 * The entry point every long-running app shares: configuration first (a bad value is a one-line message on stderr, no
 * logger yet), then the logger, then `start`; a start-up failure is logged as fatal and the process exits 1.
 */
export function runAppMain(app: string, start: (config: AppConfig, logger: Logger) => Promise<void>): void {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`tributary-${app}: ${err instanceof ConfigError ? err.message : describeError(err)}\n`);
    process.exit(1);
  }
  const logger = createLogger({ level: config.logLevel, app });
  start(config, logger).catch((err: unknown) => {
    logger.fatal({ err }, `${app} failed to start: ${describeError(err)}`);
    process.exit(1);
  });
}
