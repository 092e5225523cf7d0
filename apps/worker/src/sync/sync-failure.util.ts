import { isDomainError } from '@tributary/common';
import {
  AccountFullError,
  AuthRevokedError,
  CaptchaRequiredError,
  DuplicateAtDestinationError,
  InvalidCredentialsError,
  MfaRequiredError,
  RateLimitedError,
  UploadConsentRequiredError,
  UploadStillProcessingError,
} from '@tributary/connectors';
import { USER_EXCEPTION_RULES, type SyncStep, type UserExceptionType } from '@tributary/sync';

/** How the sync engine treats one failure of a connector call. */
export interface ClassifiedFailure {
  type: UserExceptionType;
  /** The whole connection sits out the rest of this sync (and stays blocked until the user acts, when blocking). */
  connectionLevel: boolean;
  blocking: boolean;
  /** Does not count toward the retry limit (rate limits, uploads still processing). */
  uncounted: boolean;
  retryAfterMs?: number;
  /** The service may have accepted the upload: keep the idempotency reservation for the next attempt. */
  outcomeUnknown: boolean;
  message: string;
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

function typeOf(err: unknown, step: SyncStep): UserExceptionType {
  if (err instanceof AuthRevokedError || err instanceof InvalidCredentialsError) return 'auth';
  if (err instanceof MfaRequiredError || err instanceof CaptchaRequiredError) return 'renew_password';
  if (err instanceof AccountFullError) return 'full';
  if (err instanceof UploadConsentRequiredError) return 'upload_consent';
  if (err instanceof RateLimitedError) return 'ratelimited';
  switch (step) {
    case 'list':
      return 'system';
    case 'download':
      return 'download';
    case 'upload':
      return 'upload';
  }
}

/**
 * Maps a connector failure to tapiriik's user-exception kinds. Account-level kinds (auth, full, consent, rate limits)
 * stop the whole connection for this sync, since every further call would fail the same way.
 */
export function classifyFailure(err: unknown, step: SyncStep): ClassifiedFailure {
  const type = typeOf(err, step);
  const rule = USER_EXCEPTION_RULES[type];
  const rateLimited = err instanceof RateLimitedError;
  const processing = err instanceof UploadStillProcessingError;
  const failure: ClassifiedFailure = {
    type,
    connectionLevel: rule.scope === 'connection',
    blocking: rule.blocking,
    uncounted: rateLimited || processing,
    // A permanent rejection means the service did not take it; anything else (5xx, timeout) may have landed.
    outcomeUnknown: step === 'upload' && !(isDomainError(err) && !err.retryable),
    message: messageOf(err).slice(0, 1000),
  };
  if (rateLimited) failure.retryAfterMs = err.retryAfterMs;
  return failure;
}

/** A destination answering "already have it" is a successful upload of the existing copy. */
export function duplicateRemoteId(err: unknown): string | undefined {
  return err instanceof DuplicateAtDestinationError ? err.existingRemoteId : undefined;
}
