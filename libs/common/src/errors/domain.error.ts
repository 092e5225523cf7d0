/**
 * Every error the hub raises on purpose is a DomainError. `retryable` decides whether a job is retried (BullMQ
 * rethrow) or failed for good; `code` is a stable machine-readable key for grouping, UI messages and metrics.
 */
export abstract class DomainError extends Error {
  abstract readonly retryable: boolean;
  readonly code: string;
  readonly details?: Record<string, unknown>;

  protected constructor(
    code: string,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options?.details;
  }
}

/** Worth trying again later: the same input may succeed once the world changes (network, upstream, rate limit). */
export class RetryableError extends DomainError {
  readonly retryable = true;
  constructor(code: string, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(code, message, options);
  }
}

/** Trying again with the same input fails the same way; only a change of input or user action helps. */
export class PermanentError extends DomainError {
  readonly retryable = false;
  constructor(code: string, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(code, message, options);
  }
}

/** Bad input from a user or caller; maps to HTTP 400 in the web app. */
export class ValidationError extends PermanentError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('validation', message, { details });
  }
}

/** The thing asked for does not exist for this user; maps to HTTP 404 (also used when it belongs to someone else). */
export class NotFoundError extends PermanentError {
  constructor(what: string, id?: string) {
    super('not_found', id === undefined ? `${what} not found` : `${what} ${id} not found`, { details: { what, id } });
  }
}

/** Configuration is missing or invalid; the process must not start. */
export class ConfigError extends PermanentError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('config', message, { details });
  }
}

/** A dependency (Postgres, Redis, an upstream API) cannot be reached right now. */
export class UnavailableError extends RetryableError {
  constructor(what: string, message: string, cause?: unknown) {
    super('unavailable', `${what} is unavailable: ${message}`, { cause, details: { what } });
  }
}

export function isDomainError(err: unknown): err is DomainError {
  return err instanceof DomainError;
}

/** Short text for any thrown value, for logs and stored error messages (never includes secrets by construction). */
export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return typeof err === 'string' ? err : JSON.stringify(err);
}
