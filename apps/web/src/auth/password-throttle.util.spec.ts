import { PasswordThrottle } from './password-throttle.util';

describe(PasswordThrottle.name, () => {
  it('should refuse after the allowed failures until the window ends, and forget on reset', () => {
    let now = 0;
    const sut = new PasswordThrottle({ maxFailures: 3, windowMs: 60_000, now: () => now });
    for (let i = 0; i < 3; i++) {
      expect(sut.retryAfterSeconds(['email:a', 'ip:1'])).toBe(0);
      sut.recordFailure(['email:a', 'ip:1']);
    }
    now = 15_000;
    expect(sut.retryAfterSeconds(['email:a'])).toBe(45);
    expect(sut.retryAfterSeconds(['email:b', 'ip:1'])).toBe(45);
    expect(sut.retryAfterSeconds(['email:b', 'ip:2'])).toBe(0);
    sut.reset('email:a');
    expect(sut.retryAfterSeconds(['email:a'])).toBe(0);
    now = 60_000;
    expect(sut.retryAfterSeconds(['ip:1'])).toBe(0);
  });

  it('should keep at most maxKeys windows', () => {
    const sut = new PasswordThrottle({ maxFailures: 1, windowMs: 60_000, maxKeys: 2, now: () => 0 });
    sut.recordFailure(['a']);
    sut.recordFailure(['b']);
    sut.recordFailure(['c']);
    expect(sut.retryAfterSeconds(['a'])).toBe(0);
    expect(sut.retryAfterSeconds(['b'])).toBeGreaterThan(0);
    expect(sut.retryAfterSeconds(['c'])).toBeGreaterThan(0);
  });
});
