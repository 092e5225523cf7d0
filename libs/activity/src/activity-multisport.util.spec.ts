import { type Activity } from './activity.model';
import { isMultisport, splitMultisport } from './activity-multisport.util';
import { inferFlags, withInferredFlags } from './activity-flags.util';

const T0 = Date.UTC(2025, 5, 1, 7);
const min = 60_000;

function triathlon(): Activity {
  const samples = [];
  for (let t = 0; t <= 40; t += 1) samples.push({ time: T0 + t * min, distance: t * 100, heartRate: 120 + t });
  return {
    start: T0,
    end: T0 + 40 * min,
    type: 'triathlon',
    laps: [
      { start: T0, end: T0 + 10 * min, sport: 'open_water_swimming', stats: { distance: 1000, timerTime: 600 } },
      { start: T0 + 10 * min, end: T0 + 12 * min, sport: 'transition', stats: { distance: 200, timerTime: 120 } },
      { start: T0 + 12 * min, end: T0 + 20 * min, sport: 'cycling', stats: { distance: 800, timerTime: 480 } },
      { start: T0 + 20 * min, end: T0 + 30 * min, sport: 'cycling', stats: { distance: 1000, timerTime: 600 } },
      { start: T0 + 30 * min, end: T0 + 40 * min, sport: 'running', stats: { distance: 1000, timerTime: 600 } },
    ],
    samples,
    stats: {},
    original: { format: 'fit', bytes: new Uint8Array([1]) },
  };
}

describe('splitMultisport', () => {
  it('should split into legs by lap sport and keep transitions as their own leg', () => {
    const sut = splitMultisport(triathlon());
    expect(sut.map((l) => l.type)).toEqual(['open_water_swimming', 'transition', 'cycling', 'running']);
    expect(sut.map((l) => l.laps.length)).toEqual([1, 1, 2, 1]);
    expect(sut[2]!.stats.distance).toBe(1800);
    expect(sut[2]!.stats.heartRate?.max).toBe(120 + 29);
    expect(sut[3]!.samples).toHaveLength(11);
    expect(sut.reduce((n, l) => n + l.samples.length, 0)).toBe(41);
    expect(sut[0]!.original).toBeUndefined();
  });

  it('should return a single-sport activity as is', () => {
    const a = {
      ...triathlon(),
      type: 'running' as const,
      laps: triathlon().laps.map((l) => ({ ...l, sport: undefined })),
    };
    expect(splitMultisport(a)).toEqual([a]);
    expect(isMultisport(a)).toBe(false);
    expect(isMultisport(triathlon())).toBe(true);
  });
});

describe('inferFlags', () => {
  it('should infer gps and stationary from samples', () => {
    expect(inferFlags({ samples: [{ time: 1, lat: 1, lon: 2 }] })).toEqual({ gps: true, stationary: false });
    expect(inferFlags({ samples: [{ time: 1, heartRate: 90 }] })).toEqual({ gps: false, stationary: false });
    expect(inferFlags({ samples: [{ time: 1, marker: 'start' }] })).toEqual({ gps: false, stationary: true });
  });

  it('should keep decided flags', () => {
    const sut = withInferredFlags({ ...triathlon(), gps: true });
    expect(sut.gps).toBe(true);
    expect(sut.stationary).toBe(false);
  });
});
