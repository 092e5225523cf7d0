import { formatSeconds, renderDurationChart } from './admin-chart.view';

describe('renderDurationChart', () => {
  const from = new Date('2026-01-01T00:00:00Z');
  const to = new Date('2026-01-02T00:00:00Z');

  it('should say so when nothing finished in the window', () => {
    expect(renderDurationChart({ buckets: [], from, to }).value).toContain('No sync finished in this window.');
  });

  it('should draw p50 under p95 across the window, with a data table of the same numbers', () => {
    const out = renderDurationChart({
      from,
      to,
      buckets: [
        { at: new Date('2026-01-01T00:00:00Z'), runs: 4, failed: 1, p50: 30, p95: 90 },
        { at: new Date('2026-01-01T12:00:00Z'), runs: 2, failed: 0, p50: 60, p95: 120 },
      ],
    }).value;
    const points = (cls: string) =>
      (new RegExp(`<polyline class="${cls}"[^>]*points="([^"]+)"`).exec(out)?.[1] ?? '')
        .split(' ')
        .map((p) => p.split(',').map(Number));
    const [p50a, p50b] = points('p50');
    const [p95a, p95b] = points('p95');
    // Same x per bucket, later buckets to the right, and (SVG y grows downwards) p95 above p50.
    expect(p50a?.[0]).toBe(p95a?.[0]);
    expect(p50b?.[0]).toBeGreaterThan(p50a?.[0] ?? Infinity);
    expect(p95a?.[1]).toBeLessThan(p50a?.[1] ?? -Infinity);
    expect(p95b?.[1]).toBeLessThan(p50b?.[1] ?? -Infinity);
    expect(out).toContain('data-duration-chart="2"');
    expect(out).not.toMatch(/style=/);
    expect(out).toContain('<td>1.5 min</td>');
  });

  it('should keep durations short to read', () => {
    expect([formatSeconds(42.4), formatSeconds(600), formatSeconds(7200)]).toEqual(['42 s', '10.0 min', '2.0 h']);
  });
});
