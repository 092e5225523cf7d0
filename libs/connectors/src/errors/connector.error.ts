import { PermanentError, RetryableError } from '@tributary/common';

/** What a person has to do before the connection works again; the UI shows one message per kind. */
export type Intervention = 'reauth' | 'mfa' | 'full' | 'upload_consent' | 'captcha';

export type RateLimitScope = 'global' | 'user';

/** The token was revoked or expired beyond refresh: the user must connect the service again. */
export class AuthRevokedError extends PermanentError {
  readonly intervention: Intervention = 'reauth';
  constructor(
    readonly service: string,
    message = 'authorization was revoked or has expired',
    cause?: unknown,
  ) {
    super('auth_revoked', `${service}: ${message}`, { cause, details: { service, intervention: 'reauth' } });
  }
}

/** Username/password rejected by a credentials-based service. */
export class InvalidCredentialsError extends PermanentError {
  readonly intervention: Intervention = 'reauth';
  constructor(
    readonly service: string,
    message = 'the service rejected the username or password',
  ) {
    super('invalid_credentials', `${service}: ${message}`, { details: { service, intervention: 'reauth' } });
  }
}

/**
 * Login needs a one-time code. `session` is opaque state (cookies of the half-finished login) the caller keeps
 * only for the seconds it takes the user to type the code, then hands back with it.
 */
export class MfaRequiredError extends PermanentError {
  readonly intervention: Intervention = 'mfa';
  constructor(
    readonly service: string,
    readonly session: string,
    readonly method?: string,
  ) {
    super('mfa_required', `${service}: a verification code is required to log in`, {
      details: { service, intervention: 'mfa', method },
    });
  }
}

/** The service shows a bot challenge; a person must log in once in a browser. */
export class CaptchaRequiredError extends PermanentError {
  readonly intervention: Intervention = 'captcha';
  constructor(readonly service: string) {
    super('captcha_required', `${service}: the service asks for a captcha`, {
      details: { service, intervention: 'captcha' },
    });
  }
}

/** The destination account has no space left; uploads resume once the user frees some. */
export class AccountFullError extends PermanentError {
  readonly intervention: Intervention = 'full';
  constructor(readonly service: string) {
    super('account_full', `${service}: the account is out of space`, { details: { service, intervention: 'full' } });
  }
}

/** Garmin refuses uploads from EU accounts until the user grants upload consent in Garmin Connect. */
export class UploadConsentRequiredError extends PermanentError {
  readonly intervention: Intervention = 'upload_consent';
  constructor(readonly service: string) {
    super('upload_consent_required', `${service}: the user has not granted upload consent`, {
      details: { service, intervention: 'upload_consent' },
    });
  }
}

/**
 * Too many requests. Pacing already waited as long as allowed; the job should come back after `retryAfterMs`.
 * `scope` says whether every user of the service is blocked (global) or only this connection (user).
 */
export class RateLimitedError extends RetryableError {
  constructor(
    readonly service: string,
    readonly retryAfterMs: number,
    readonly scope: RateLimitScope = 'global',
    cause?: unknown,
  ) {
    super('rate_limited', `${service}: rate limited, retry in ${Math.ceil(retryAfterMs / 1000)} s`, {
      cause,
      details: { service, retryAfterMs, scope },
    });
  }
}

/** Network failure, timeout or 5xx: the same call will probably work later. */
export class UpstreamUnavailableError extends RetryableError {
  constructor(
    readonly service: string,
    message: string,
    readonly status?: number,
    cause?: unknown,
  ) {
    super('upstream_unavailable', `${service}: ${message}`, { cause, details: { service, status } });
  }
}

export type PermanentUpstreamReason =
  'corrupt' | 'unsupported' | 'rejected' | 'forbidden' | 'bad_response' | 'bad_credentials_record' | 'deleted';

/** The service refused this particular request for good (bad file, unsupported content, malformed answer). */
export class PermanentUpstreamError extends PermanentError {
  constructor(
    readonly service: string,
    readonly reason: PermanentUpstreamReason,
    message: string,
    readonly status?: number,
    cause?: unknown,
  ) {
    super(`upstream_${reason}`, `${service}: ${message}`, { cause, details: { service, reason, status } });
  }
}

/** The activity (or file) asked for does not exist at the service any more. */
export class RemoteNotFoundError extends PermanentError {
  constructor(
    readonly service: string,
    readonly remoteId: string,
  ) {
    super('remote_not_found', `${service}: ${remoteId} not found`, { details: { service, remoteId } });
  }
}

/**
 * The destination already has this activity. The sync engine counts it as a successful upload and records
 * `existingRemoteId` as the activity's id there.
 */
export class DuplicateAtDestinationError extends PermanentError {
  constructor(
    readonly service: string,
    readonly existingRemoteId: string,
  ) {
    super('duplicate_at_destination', `${service}: already has this activity as ${existingRemoteId}`, {
      details: { service, existingRemoteId },
    });
  }
}

/**
 * The upload was accepted but the service had not finished processing it within our polling schedule. Retrying
 * resumes polling `uploadId` instead of uploading again.
 */
export class UploadStillProcessingError extends RetryableError {
  constructor(
    readonly service: string,
    readonly uploadId: string,
    readonly externalId?: string,
  ) {
    super('upload_still_processing', `${service}: upload ${uploadId} is still being processed`, {
      details: { service, uploadId, externalId },
    });
  }
}

/** The destination cannot take this activity at all (type, stationary, no GPS, format). */
export class ActivityNotAcceptedError extends PermanentError {
  constructor(
    readonly service: string,
    readonly reason: 'type_unsupported' | 'stationary' | 'non_gps' | 'format_unsupported',
    message: string,
  ) {
    super('activity_not_accepted', `${service}: ${message}`, { details: { service, reason } });
  }
}

/** A webhook request failed verification (bad signature, wrong verify token, malformed body). */
export class WebhookRejectedError extends PermanentError {
  constructor(
    readonly service: string,
    message: string,
  ) {
    super('webhook_rejected', `${service}: ${message}`, { details: { service } });
  }
}

/** A path given for a local folder or file escapes its root or is otherwise not allowed. */
export class PathNotAllowedError extends PermanentError {
  constructor(message: string) {
    super('path_not_allowed', message);
  }
}
