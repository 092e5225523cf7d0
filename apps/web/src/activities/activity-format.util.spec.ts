import {
  formatDistance,
  formatDuration,
  formatHours,
  formatPace,
  formatSpeed,
  formatStart,
  typeLabel,
} from './activity-format.util';

describe('activity formatting', () => {
  it('should format distances by size', () => {
    expect(formatDistance(850.4)).toBe('850 m');
    expect(formatDistance(5030)).toBe('5.03 km');
    expect(formatDistance(123_456)).toBe('123 km');
    expect(formatDistance(null)).toBe('–');
  });

  it('should format durations as m:ss or h:mm:ss', () => {
    expect(formatDuration(59)).toBe('0:59');
    expect(formatDuration(1805)).toBe('30:05');
    expect(formatDuration(3725)).toBe('1:02:05');
    expect(formatDuration(-1)).toBe('–');
    expect(formatHours(3600 * 12 + 300)).toBe('12 h 05 min');
    expect(formatHours(2700)).toBe('45 min');
  });

  it('should format speed and pace', () => {
    expect(formatSpeed(10)).toBe('36.0 km/h');
    expect(formatPace(1000 / 312)).toBe('5:12 /km');
    expect(formatPace(0)).toBe('–');
  });

  it("should show the start in the activity's own zone, or UTC when the zone is unknown or invalid", () => {
    const at = new Date('2024-05-05T05:00:00Z');
    expect(formatStart(at, 'Europe/Berlin')).toBe('Sun, 5 May 2024, 07:00');
    expect(formatStart(at, null)).toBe('Sun, 5 May 2024, 05:00 UTC');
    expect(formatStart(at, 'Not/AZone')).toBe('Sun, 5 May 2024, 05:00 UTC');
  });

  it('should label known types and pass unknown ones through', () => {
    expect(typeLabel('trail_running')).toBe('Trail run');
    expect(typeLabel('Quidditch')).toBe('Quidditch');
  });
});
