import { NotFoundError, ValidationError } from '@tributary/common';

/** A control-API request the sandbox cannot act on; answered with HTTP 400 and the message. */
export class SandboxInputError extends ValidationError {
  constructor(message: string, details?: Record<string, unknown>) {
    super(message, details);
  }
}

/** Something a control-API request refers to does not exist in the simulator; answered with HTTP 404. */
export class SandboxNotFoundError extends NotFoundError {}
