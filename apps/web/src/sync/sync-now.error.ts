import { PermanentError, RetryableError } from '@tributary/common';

/** The request has no signed-in user; answered with 401. */
export class SignInRequiredError extends PermanentError {
  constructor() {
    super('unauthorized', 'Sign in to synchronize');
  }
}

/** "Sync now" was pressed again too soon after the last sync or request; answered with 429 and Retry-After. */
export class SyncNowCooldownError extends RetryableError {
  constructor(readonly retryAfterSeconds: number) {
    super('rate_limited', `A sync just ran or was requested; try again in ${retryAfterSeconds} s`, {
      details: { retryAfterSeconds },
    });
  }
}
