import { PermanentError, RetryableError } from '@tributary/common';

/** A webhook request we could not verify (token, signature, subscription) or understand; answered with 403. */
export class WebhookForbiddenError extends PermanentError {
  constructor(service: string, reason: string) {
    super('forbidden', `Webhook refused: ${reason}`, { details: { service } });
  }
}

/** One source sent too many webhook requests; answered with 429 and Retry-After. */
export class WebhookRateLimitedError extends RetryableError {
  constructor(
    readonly retryAfterSeconds: number,
    service: string,
  ) {
    super('rate_limited', 'Too many webhook requests from this source', { details: { service, retryAfterSeconds } });
  }
}
