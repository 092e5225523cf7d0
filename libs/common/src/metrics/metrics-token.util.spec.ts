import { metricsScrapeAllowed } from './metrics-token.util';

describe(metricsScrapeAllowed.name, () => {
  const token = 'a-long-metrics-token-0123';

  it('should allow every scrape when no token is configured', () => {
    expect(metricsScrapeAllowed(undefined, undefined)).toBe(true);
    expect(metricsScrapeAllowed('Bearer whatever', '')).toBe(true);
  });

  it('should allow only the configured bearer token', () => {
    expect(metricsScrapeAllowed(`Bearer ${token}`, token)).toBe(true);
    expect(metricsScrapeAllowed(`bearer  ${token}`, token)).toBe(true);
    expect(metricsScrapeAllowed(undefined, token)).toBe(false);
    expect(metricsScrapeAllowed(token, token)).toBe(false);
    expect(metricsScrapeAllowed(`Basic ${token}`, token)).toBe(false);
    expect(metricsScrapeAllowed(`Bearer ${token}x`, token)).toBe(false);
    expect(metricsScrapeAllowed('Bearer ', token)).toBe(false);
  });
});
