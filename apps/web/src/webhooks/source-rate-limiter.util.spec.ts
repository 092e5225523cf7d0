import { SourceRateLimiter } from './source-rate-limiter.util';

describe(SourceRateLimiter.name, () => {
  it('should allow up to the limit per window and source, then say when to retry', () => {
    const sut = new SourceRateLimiter({ max: 2, windowMs: 1000 });
    expect(sut.take('a', 0).allowed).toBe(true);
    expect(sut.take('a', 100).allowed).toBe(true);
    expect(sut.take('a', 400)).toEqual({ allowed: false, retryAfterMs: 600 });
    expect(sut.take('b', 400).allowed).toBe(true);
  });

  it('should start a new window once the old one is over', () => {
    const sut = new SourceRateLimiter({ max: 1, windowMs: 1000 });
    expect(sut.take('a', 0).allowed).toBe(true);
    expect(sut.take('a', 999).allowed).toBe(false);
    expect(sut.take('a', 1000).allowed).toBe(true);
  });
});
