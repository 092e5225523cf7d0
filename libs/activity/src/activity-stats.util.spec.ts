import { type Activity, type Sample } from './activity.model';
import {
  computeLapStats,
  computeStats,
  elevationGainLoss,
  fillMissingStats,
  haversineDistance,
  mergeMissingStats,
  pausedMs,
  statsFromSamples,
} from './activity-stats.util';

const T0 = Date.UTC(2024, 4, 1, 8, 0, 0);

function ride(): Sample[] {
  // 10 samples 1 s apart, 5 m/s, then a 20 s pause, then 5 more samples.
  const samples: Sample[] = [];
  for (let i = 0; i < 10; i += 1) {
    samples.push({ time: T0 + i * 1000, distance: i * 5, speed: 5, heartRate: 100 + i, power: 200, altitude: 100 + i });
  }
  samples[0]!.marker = 'start';
  samples[9]!.marker = 'pause';
  for (let i = 0; i < 5; i += 1) {
    samples.push({
      time: T0 + 29_000 + i * 1000,
      distance: 45 + (i + 1) * 5,
      speed: 5,
      heartRate: 150,
      power: 300,
      altitude: 109 - i * 2,
    });
  }
  samples[10]!.marker = 'resume';
  samples[14]!.marker = 'end';
  return samples;
}

function activityOf(samples: Sample[]): Activity {
  return {
    start: samples[0]!.time,
    end: samples[samples.length - 1]!.time,
    type: 'cycling',
    laps: [],
    samples,
    stats: {},
  };
}

describe('computeStats', () => {
  it('should honour pause and resume markers for timer time', () => {
    const sut = computeStats(activityOf(ride()));
    expect(sut.elapsedTime).toBe(33);
    expect(sut.timerTime).toBe(13);
    expect(sut.distance).toBe(70);
    expect(sut.movingTime).toBe(13);
  });

  it('should average sensors over running samples only and give min/max', () => {
    const sut = computeStats(activityOf(ride()));
    expect(sut.heartRate).toEqual({
      avg: (100 + 101 + 102 + 103 + 104 + 105 + 106 + 107 + 108 + 109 + 5 * 150) / 15,
      min: 100,
      max: 150,
    });
    expect(sut.power?.max).toBe(300);
    expect(sut.speed?.avg).toBeCloseTo(70 / 13, 9);
    expect(sut.speed?.max).toBe(5);
  });

  it('should compute elevation gain and loss with hysteresis', () => {
    const sut = computeStats(activityOf(ride()));
    expect(sut.elevation?.gain).toBe(9);
    expect(sut.elevation?.loss).toBe(8);
    expect(elevationGainLoss([100, 100.4, 99.8, 100.3, 99.9, 100.2], 1)).toEqual({ gain: 0, loss: 0 });
    const noHysteresis = elevationGainLoss([100, 100.4, 99.8, 100.3, 99.9, 100.2], 0);
    expect(noHysteresis.gain).toBeCloseTo(1.2, 9);
    expect(noHysteresis.loss).toBeCloseTo(1, 9);
  });

  it('should use cumulative calories for energy (counted from the activity start, per lap from the lap start)', () => {
    const samples: Sample[] = [0, 1, 2].map((i) => ({ time: T0 + i * 1000, calories: 10 + i * 3 }));
    expect(computeStats({ samples }).energy).toBe(16);
    expect(computeLapStats({ samples }, { start: T0 + 1000, end: T0 + 3000 }).energy).toBe(6);
  });

  it('should fall back to the GPS path length without a distance field', () => {
    const samples: Sample[] = [
      { time: T0, lat: 0, lon: 0.001 },
      { time: T0 + 1000, lat: 0, lon: 0.002 },
      { time: T0 + 2000, lat: 0, lon: 0.003 },
    ];
    expect(computeStats({ samples }).distance).toBeCloseTo(2 * haversineDistance(0, 0, 0, 0.001), 6);
    expect(haversineDistance(0, 0, 0, 1)).toBeCloseTo(111_195, -1);
  });

  it('should compute lap stats from the samples inside the lap', () => {
    const sut = computeLapStats(activityOf(ride()), { start: T0, end: T0 + 5000 });
    expect(sut.distance).toBe(20);
    expect(sut.heartRate?.max).toBe(104);
    expect(sut.elapsedTime).toBe(5);
  });

  it('should count a pause that is still open at the end of the range', () => {
    const samples: Sample[] = [{ time: T0, marker: 'pause' }];
    expect(pausedMs(samples, T0, T0 + 5000)).toBe(5000);
  });
});

describe('fillMissingStats', () => {
  it('should only fill what is absent', () => {
    const act = activityOf(ride());
    act.stats = { distance: 71, heartRate: { max: 180 } };
    act.laps = [{ start: T0, end: act.end, stats: { energy: 12 } }];
    const sut = fillMissingStats(act);
    expect(sut.stats.distance).toBe(71);
    expect(sut.stats.heartRate?.max).toBe(180);
    expect(sut.stats.heartRate?.min).toBe(100);
    expect(sut.stats.timerTime).toBe(13);
    expect(sut.laps[0]!.stats.energy).toBe(12);
    expect(sut.laps[0]!.stats.distance).toBe(70);
    expect(act.stats.timerTime).toBeUndefined();
  });
});

describe('statsFromSamples', () => {
  it('should summarise channels, cumulative distance, derived speed and elevation gain/loss', () => {
    const sut = statsFromSamples([
      { time: 0, heartRate: 100, altitude: 10, distance: 5 },
      { time: 1000, heartRate: 120, altitude: 15, distance: 9 },
      { time: 3000, power: 0, altitude: 12, distance: 15 },
    ]);
    expect(sut).toEqual({
      distance: 10,
      elapsedTime: 3,
      timerTime: 3,
      movingTime: 3,
      heartRate: { avg: 110, min: 100, max: 120 },
      power: { avg: 0, min: 0, max: 0 },
      speed: { avg: 10 / 3, min: 3, max: 4 },
      elevation: { avg: 37 / 3, min: 10, max: 15, gain: 5, loss: 3 },
    });
  });

  it('should measure the path through positioned samples when there is no cumulative distance', () => {
    expect(haversineDistance(0, 0, 1, 0)).toBeCloseTo(111_195, -1);
    const path = statsFromSamples([{ time: 0, lat: 0, lon: 0 }, { time: 1 }, { time: 2, lat: 0, lon: 1 }]);
    expect(path.distance).toBeCloseTo(111_195, -1);
    expect(statsFromSamples([{ time: 0, lat: 0, lon: 0 }]).distance).toBe(0);
    expect(statsFromSamples([{ time: 0, heartRate: 90 }]).distance).toBeUndefined();
  });
});

describe('mergeMissingStats', () => {
  it('should prefer the present figures and fill gaps member by member', () => {
    expect(
      mergeMissingStats({ distance: 7, heartRate: { max: 190 } }, { distance: 6, heartRate: { avg: 140, max: 180 } }),
    ).toEqual({ distance: 7, heartRate: { avg: 140, max: 190 } });
  });
});
