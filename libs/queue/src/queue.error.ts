import { PermanentError } from '@tributary/common';

/** The job handler registry is inconsistent (missing or duplicate handler); the worker must not start. */
export class JobRegistryError extends PermanentError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('job_registry', message, { details });
  }
}
