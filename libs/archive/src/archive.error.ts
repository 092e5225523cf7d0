import { NotFoundError, RetryableError } from '@tributary/common';

/** The activity is not the user's, or no stored file and no connection can supply one (HTTP 404). */
export class ArchiveNotFoundError extends NotFoundError {
  constructor(what: string, id?: string) {
    super(what, id);
  }
}

/** Every connection that could supply the file failed for a reason that may pass (network, rate limit, outage). */
export class ArchiveSourceUnavailableError extends RetryableError {
  constructor(recordId: string, message: string, cause?: unknown) {
    super('archive_source_unavailable', `the original of activity ${recordId} cannot be fetched now: ${message}`, {
      cause,
      details: { recordId },
    });
  }
}

/** The export was cancelled through its AbortSignal (the client went away). */
export class ExportAbortedError extends RetryableError {
  constructor() {
    super('export_aborted', 'the export was cancelled');
  }
}
