import { PermanentError } from '@tributary/common';
import { type ActivityFormat } from '@tributary/activity';

/** Why a file could not be read or written. Stable codes: the UI and the sync engine group on them. */
export type FormatErrorReason =
  | 'empty'
  | 'too_large'
  | 'unknown_format'
  | 'not_this_format'
  | 'truncated'
  | 'bad_checksum'
  | 'malformed'
  | 'entities_forbidden'
  | 'no_activity'
  | 'unencodable';

/** A file is corrupt, hostile or unsupported. Permanent: the same bytes fail the same way. */
export class FormatError extends PermanentError {
  constructor(
    readonly format: ActivityFormat | 'unknown',
    readonly reason: FormatErrorReason,
    message: string,
    cause?: unknown,
  ) {
    super(`format_${reason}`, `${format.toUpperCase()}: ${message}`, { cause, details: { format, reason } });
  }
}
