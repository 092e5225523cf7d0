import { Inject, Injectable } from '@nestjs/common';
import { describeError, type Logger } from '@tributary/common';
import { READINESS_CHECKS, ROOT_LOGGER } from '../web.tokens';

/** A dependency probe; resolves when the dependency answers, rejects otherwise. */
export type ReadinessCheck = () => Promise<void>;
export type ReadinessChecks = Readonly<Record<string, ReadinessCheck>>;

export type CheckState = 'ok' | 'unavailable' | 'timeout';

export interface ReadinessReport {
  status: 'ok' | 'unavailable';
  checks: Record<string, CheckState>;
}

/** Short: a load balancer polls this every few seconds and a hung dependency must not hang the probe. */
export const READINESS_CHECK_TIMEOUT_MS = 1500;

@Injectable()
export class ReadinessService {
  constructor(
    @Inject(READINESS_CHECKS) private readonly checks: ReadinessChecks,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  async check(timeoutMs = READINESS_CHECK_TIMEOUT_MS): Promise<ReadinessReport> {
    const entries = await Promise.all(
      Object.entries(this.checks).map(async ([name, probe]) => [name, await this.run(name, probe, timeoutMs)] as const),
    );
    const checks = Object.fromEntries(entries);
    return { status: entries.every(([, state]) => state === 'ok') ? 'ok' : 'unavailable', checks };
  }

  private async run(name: string, probe: ReadinessCheck, timeoutMs: number): Promise<CheckState> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      const state = await Promise.race([probe().then(() => 'ok' as const), timeout]);
      if (state === 'timeout') this.logger.warn({ check: name, timeoutMs }, 'readiness check timed out');
      return state;
    } catch (err) {
      // The reason goes to the log only: the probe endpoint is public and must not describe internal hosts.
      this.logger.warn({ check: name, reason: describeError(err) }, 'readiness check failed');
      return 'unavailable';
    } finally {
      clearTimeout(timer);
    }
  }
}
