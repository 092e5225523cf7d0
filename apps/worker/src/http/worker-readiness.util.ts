import { describeError, type Logger } from '@tributary/common';

/** A dependency probe; resolves when the dependency answers, rejects otherwise. */
export type ReadinessCheck = () => Promise<void>;

export type CheckState = 'ok' | 'unavailable' | 'timeout';

export interface ReadinessReport {
  status: 'ok' | 'unavailable';
  checks: Record<string, CheckState>;
}

/** Short: the kubelet polls every few seconds and a hung dependency must not hang the probe. */
export const READINESS_CHECK_TIMEOUT_MS = 1500;

/**
 * Runs every check at once (same report shape as the web app's /health/ready). The failure reason goes to the log
 * only: the answer names the failing check, never internal hosts or messages.
 */
export async function checkReadiness(
  checks: Readonly<Record<string, ReadinessCheck>>,
  logger: Logger,
  timeoutMs = READINESS_CHECK_TIMEOUT_MS,
): Promise<ReadinessReport> {
  const entries = await Promise.all(
    Object.entries(checks).map(
      async ([name, probe]) => [name, await runCheck(name, probe, logger, timeoutMs)] as const,
    ),
  );
  return {
    status: entries.every(([, state]) => state === 'ok') ? 'ok' : 'unavailable',
    checks: Object.fromEntries(entries),
  };
}

async function runCheck(name: string, probe: ReadinessCheck, logger: Logger, timeoutMs: number): Promise<CheckState> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const state = await Promise.race([probe().then(() => 'ok' as const), timeout]);
    if (state === 'timeout') logger.warn({ check: name, timeoutMs }, 'readiness check timed out');
    return state;
  } catch (err) {
    logger.warn({ check: name, reason: describeError(err) }, 'readiness check failed');
    return 'unavailable';
  } finally {
    clearTimeout(timer);
  }
}
