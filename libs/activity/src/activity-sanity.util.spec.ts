import { type Activity } from './activity.model';
import { checkSanity, cleanStats } from './activity-sanity.util';

const NOW = Date.UTC(2025, 0, 10);
const T0 = Date.UTC(2025, 0, 1, 8);

function sane(): Activity {
  return {
    start: T0,
    end: T0 + 60_000,
    type: 'running',
    gps: true,
    stationary: false,
    laps: [{ start: T0, end: T0 + 60_000, stats: { distance: 100, timerTime: 60 } }],
    samples: [
      { time: T0, lat: 52.5, lon: 13.4, altitude: 30 },
      { time: T0 + 60_000, lat: 52.501, lon: 13.4, altitude: 31 },
    ],
    stats: { distance: 100, timerTime: 60 },
  };
}

const codes = (a: Activity) => checkSanity(a, { now: NOW }).map((p) => p.code);

describe('checkSanity', () => {
  it('should accept a sane activity', () => {
    expect(checkSanity(sane(), { now: NOW })).toEqual([]);
  });

  it('should reject missing laps and undecided flags', () => {
    const a = { ...sane(), laps: [], gps: undefined };
    expect(codes(a)).toEqual(expect.arrayContaining(['no_laps', 'flags_undecided']));
  });

  it('should reject a moving activity with one point', () => {
    const a = sane();
    a.samples = [a.samples[0]!];
    expect(codes(a)).toEqual(expect.arrayContaining(['too_few_points', 'single_point']));
  });

  it('should reject over 1000 km, bad dates and bad durations', () => {
    const a = { ...sane(), stats: { distance: 1_000_001 }, laps: [] };
    expect(codes(a)).toContain('distance_too_long');
    expect(codes({ ...sane(), start: Date.UTC(1994, 11, 31), end: Date.UTC(1995, 0, 1) })).toContain(
      'starts_too_early',
    );
    expect(codes({ ...sane(), start: NOW + 6 * 86_400_000, end: NOW + 6 * 86_400_000 + 1 })).toContain(
      'starts_in_future',
    );
    expect(codes({ ...sane(), end: NOW + 11 * 86_400_000 })).toEqual(
      expect.arrayContaining(['ends_in_future', 'bad_duration']),
    );
    expect(codes({ ...sane(), end: T0 })).toContain('bad_duration');
  });

  it('should reject a single lap whose stats differ from the activity', () => {
    const a = sane();
    a.laps[0]!.stats.distance = 150;
    expect(codes(a)).toEqual(['lap_stats_mismatch']);
  });

  it('should reject (0,0) and out-of-range coordinates and all-zero altitudes', () => {
    const a = sane();
    a.samples[1] = { time: T0 + 60_000, lat: 0, lon: 0, altitude: 0 };
    expect(codes(a)).toContain('bad_coordinate');
    a.samples[1] = { time: T0 + 60_000, lat: 91, lon: 0 };
    expect(codes(a)).toContain('bad_coordinate');
    const z = sane();
    z.samples.forEach((s) => (s.altitude = 0));
    expect(codes(z)).toEqual(['all_altitudes_zero']);
  });

  it('should give a human message with each code', () => {
    const [p] = checkSanity({ ...sane(), laps: [] }, { now: NOW });
    expect(p?.code).toBe('no_laps');
    expect(p?.message).toMatch(/lap/);
  });
});

describe('cleanStats', () => {
  it('should remove out-of-range stats and report them', () => {
    const a = sane();
    a.stats = { heartRate: { avg: 140, max: 320 }, power: { max: 6000 }, energy: 0, distance: 100 };
    a.laps[0]!.stats.speed = { max: 50 };
    const { activity: sut, cleaned } = cleanStats(a);
    expect(sut.stats.heartRate).toEqual({ avg: 140 });
    expect(sut.stats.power).toBeUndefined();
    expect(sut.stats.energy).toBeUndefined();
    expect(sut.stats.distance).toBe(100);
    expect(sut.laps[0]!.stats.speed).toBeUndefined();
    expect(cleaned.map((c) => c.path).sort()).toEqual(
      ['laps[0].stats.speed.max', 'stats.energy', 'stats.heartRate.max', 'stats.power.max'].sort(),
    );
    expect(a.stats.heartRate?.max).toBe(320);
  });

  it('should set negative sample values to 0 but keep negative altitude and temperature', () => {
    const a = sane();
    a.samples[0] = { ...a.samples[0]!, power: -5, altitude: -10, temperature: -3 };
    const { activity: sut, cleaned } = cleanStats(a);
    expect(sut.samples[0]).toMatchObject({ power: 0, altitude: -10, temperature: -3 });
    expect(cleaned).toEqual([{ path: 'samples[0].power', value: -5, reason: 'negative' }]);
  });
});
