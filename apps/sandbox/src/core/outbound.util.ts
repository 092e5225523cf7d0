import { describeError } from '@tributary/common';

export interface DeliveryAttempt {
  status?: number;
  error?: string;
  body?: string;
  durationMs: number;
}

export interface DeliveryResult {
  url: string;
  delivered: boolean;
  attempts: DeliveryAttempt[];
}

/**
 * Sends one outbound HTTP request (webhook event or handshake) the way the real service does: a hard timeout and
 * a fixed number of attempts, success meaning a 2xx answer in time.
 */
export async function deliver(
  url: string,
  init: { method: 'GET' | 'POST'; body?: string; headers?: Record<string, string> },
  policy: { timeoutMs: number; attempts: number; retryDelayMs?: number },
): Promise<DeliveryResult> {
  const attempts: DeliveryAttempt[] = [];
  for (let i = 0; i < Math.max(1, policy.attempts); i++) {
    const started = Date.now();
    try {
      const res = await fetch(url, {
        method: init.method,
        body: init.body,
        headers: init.headers,
        signal: AbortSignal.timeout(policy.timeoutMs),
        redirect: 'manual',
      });
      const body = await res.text();
      attempts.push({ status: res.status, body: body.slice(0, 2000), durationMs: Date.now() - started });
      if (res.status >= 200 && res.status < 300) return { url, delivered: true, attempts };
    } catch (err) {
      attempts.push({ error: describeError(err), durationMs: Date.now() - started });
    }
    if (policy.retryDelayMs !== undefined && i + 1 < policy.attempts) {
      await new Promise((resolve) => setTimeout(resolve, policy.retryDelayMs).unref());
    }
  }
  return { url, delivered: false, attempts };
}
