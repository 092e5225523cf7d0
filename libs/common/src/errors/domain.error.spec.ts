import {
  DomainError,
  NotFoundError,
  PermanentError,
  RetryableError,
  ValidationError,
  describeError,
} from './domain.error';

describe(DomainError.name, () => {
  it('should mark retryable and permanent errors and keep the subclass name', () => {
    const retry = new RetryableError('upstream', 'try later');
    const perm = new ValidationError('bad date', { field: 'start' });
    expect(retry.retryable).toBe(true);
    expect(perm.retryable).toBe(false);
    expect(perm).toBeInstanceOf(PermanentError);
    expect(perm.name).toBe('ValidationError');
    expect(perm.details).toEqual({ field: 'start' });
  });

  it('should keep the cause', () => {
    const cause = new TypeError('boom');
    expect(new RetryableError('x', 'y', { cause }).cause).toBe(cause);
  });

  it('should describe any thrown value', () => {
    expect(describeError(new NotFoundError('Activity', 'a1'))).toBe('NotFoundError: Activity a1 not found');
    expect(describeError('plain')).toBe('plain');
    expect(describeError({ a: 1 })).toBe('{"a":1}');
  });
});
