import { PermanentError, ValidationError } from '@tributary/common';

/** Bad arguments or an unknown user: exit code 2 (main.ts maps `validation`). */
export class CliUsageError extends ValidationError {
  constructor(message: string, details?: Record<string, unknown>) {
    super(message, details);
  }
}

/** The command ran but part of it failed (listed in its output): exit code 1. */
export class CliIncompleteError extends PermanentError {
  constructor(code: string, message: string) {
    super(code, message);
  }
}
