import { mondayOf, weekStarts, weeklyStats } from './stats.util';

describe('weekly stats', () => {
  it('should find Mondays', () => {
    expect(mondayOf(new Date('2024-05-05T23:00:00Z'))).toEqual(new Date('2024-04-29T00:00:00Z'));
    expect(mondayOf(new Date('2024-05-06T00:00:00Z'))).toEqual(new Date('2024-05-06T00:00:00Z'));
    expect(weekStarts(new Date('2024-05-08T12:00:00Z'), 3).map((d) => d.toISOString().slice(0, 10))).toEqual([
      '2024-04-22',
      '2024-04-29',
      '2024-05-06',
    ]);
  });

  it('should fill empty weeks, total per type and fold small types into "Other types"', () => {
    const weeks = weekStarts(new Date('2024-05-08T12:00:00Z'), 2);
    const w0 = weeks[0]!;
    const w1 = weeks[1]!;
    const types = ['running', 'cycling', 'hiking', 'swimming', 'yoga', 'golf'];
    const rows = types.map((type, i) => ({
      week: w1,
      type,
      count: 1,
      distance: 1000 * (i + 1),
      duration: 600 * (6 - i),
    }));
    rows.push({ week: new Date('2020-01-06Z'), type: 'running', count: 9, distance: 9, duration: 9 });
    const stats = weeklyStats(rows, [w0, w1]);
    expect(stats.weeks).toEqual(['2024-04-29', '2024-05-06']);
    expect(stats.series.map((s) => s.name)).toEqual(['Run', 'Ride', 'Hike', 'Swim', 'Other types']);
    expect(stats.series[0]!.duration).toEqual([0, 3600]);
    expect(stats.series[4]!.distance).toEqual([0, 5000 + 6000]);
    expect(stats.totals).toEqual({ count: 6, distance: 21000, duration: 600 * 21 });
    expect(stats.byType[0]).toEqual({ type: 'running', label: 'Run', count: 1, distance: 1000, duration: 3600 });
  });
});
