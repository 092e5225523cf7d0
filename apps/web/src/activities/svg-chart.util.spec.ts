import { barChart, downsample, lineChart, niceTicks, trackOutline } from './svg-chart.util';

describe('svg charts', () => {
  it('should pick round ticks', () => {
    expect(niceTicks(0, 97)).toEqual([0, 20, 40, 60, 80]);
    expect(niceTicks(101.3, 104.9)).toEqual([102, 103, 104]);
    expect(niceTicks(5, 5)).toEqual([5]);
  });

  it('should average buckets when downsampling and keep short series as they are', () => {
    const pts = Array.from({ length: 10 }, (_, i) => ({ x: i, y: i % 2 === 0 ? 0 : 10 }));
    expect(downsample(pts, 5)).toEqual([
      { x: 0.5, y: 5 },
      { x: 2.5, y: 5 },
      { x: 4.5, y: 5 },
      { x: 6.5, y: 5 },
      { x: 8.5, y: 5 },
    ]);
    expect(downsample(pts.slice(0, 3), 5)).toHaveLength(3);
  });

  it('should render an accessible line chart, and nothing for fewer than two points', () => {
    const svg = lineChart({
      id: 'hr',
      title: 'Heart rate <over> time',
      points: [
        { x: 0, y: 120 },
        { x: 60, y: 150 },
        { x: 120, y: 135 },
      ],
      formatX: (s) => `${s} s`,
      formatY: (y) => `${y} bpm`,
      tone: 'hr',
    }).value;
    expect(svg).toContain('role="img"');
    expect(svg).toContain('<title id="hr-t">Heart rate &lt;over&gt; time</title>');
    expect(svg).toContain('From 120 bpm to 150 bpm, average 135 bpm, over 0 s to 120 s.');
    expect(svg).toMatch(/<path class="line" d="M40,\d+(\.\d)?L/);
    expect(
      lineChart({ id: 'x', title: 't', points: [{ x: 0, y: 1 }], formatX: String, formatY: String, tone: 'hr' }).value,
    ).toBe('');
  });

  it('should stack bars and name the largest in the description', () => {
    const svg = barChart({
      id: 'w',
      title: 'Distance per week',
      labels: ['1 Jan', '8 Jan'],
      series: [
        { name: 'Run', values: [10, 0] },
        { name: 'Ride', values: [5, 40] },
      ],
      formatY: (km) => `${km} km`,
    }).value;
    expect(svg.match(/<rect\s/g)).toHaveLength(3);
    expect(svg).toContain('the largest is 8 Jan with 40 km');
    expect(svg).toContain('<title>8 Jan · Ride: 40 km</title>');
  });

  it('should draw the track outline north up', () => {
    const svg = trackOutline([
      [50, 8],
      [50.01, 8],
    ]).value;
    // The second point is further north, so it is higher (smaller y).
    const [, y1, y2] = /M10,([\d.]+)L10,([\d.]+)/.exec(svg) ?? [];
    expect(Number(y2)).toBeLessThan(Number(y1));
  });
});
