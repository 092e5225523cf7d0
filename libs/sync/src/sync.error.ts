import { ValidationError } from '@tributary/common';

/** A timezone name that is not a valid IANA zone, or a time that cannot be read in it. */
export class InvalidTimezoneError extends ValidationError {
  constructor(zone: string) {
    super(`"${zone}" is not a valid IANA timezone`, { zone });
  }
}

/** Defining a zone applies to naive times only, adjusting to aware times only; mixing them up would shift instants. */
export class TimezoneStateError extends ValidationError {
  constructor(operation: 'define' | 'adjust', naive: boolean) {
    super(
      operation === 'define'
        ? 'defineTimezone needs naive (wall-clock) times; use adjustTimezone for aware times'
        : 'adjustTimezone needs aware (instant) times; use defineTimezone for naive times',
      { operation, naive },
    );
  }
}

/** A provider timestamp that does not have the documented shape. */
export class InvalidTimestampError extends ValidationError {
  constructor(what: string, value: unknown) {
    super(`${what} is not a valid timestamp: ${JSON.stringify(value)}`, { what, value });
  }
}
