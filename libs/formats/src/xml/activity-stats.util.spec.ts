import { type Activity } from '@tributary/activity';
import { activityStats, assignSamplesToLaps, lapStats, splitAtPauses } from './activity-stats.util';

describe('lapStats', () => {
  it('should keep the lap figures, fill the rest from its samples and take elapsed time from its span', () => {
    const sut = lapStats({ start: 0, end: 10_000, stats: { distance: 7, heartRate: { max: 190 } } }, [
      { time: 0, heartRate: 130, distance: 0 },
      { time: 2000, heartRate: 150, distance: 6 },
    ]);
    expect(sut).toMatchObject({
      distance: 7,
      elapsedTime: 10,
      timerTime: 2,
      heartRate: { avg: 140, min: 130, max: 190 },
    });
  });
});

describe('activityStats', () => {
  it('should sum lap totals, take the span as elapsed time and let lap maxima beat the samples', () => {
    const laps = [
      { start: 0, end: 5000, stats: { distance: 10, timerTime: 5, energy: 3, power: { max: 900 } } },
      { start: 5000, end: 9000, stats: { distance: 20, strides: 4 } },
    ];
    const sut = activityStats(
      laps,
      [
        { time: 0, power: 100, distance: 0 },
        { time: 9000, power: 300, distance: 25 },
      ],
      0,
      12_000,
    );
    expect(sut).toMatchObject({
      distance: 30,
      timerTime: 5,
      energy: 3,
      strides: 4,
      elapsedTime: 12,
      power: { avg: 200, min: 100, max: 900 },
    });
  });
});

describe('assignSamplesToLaps', () => {
  it('should give every sample to the last lap starting at or before it, early ones to the first', () => {
    const activity: Activity = {
      start: 1000,
      end: 5000,
      type: 'running',
      stats: {},
      laps: [
        { start: 3000, end: 5000, stats: {} },
        { start: 1000, end: 3000, stats: {} },
      ],
      samples: [{ time: 500 }, { time: 1000 }, { time: 2999 }, { time: 3000 }, { time: 9000 }],
    };
    expect(assignSamplesToLaps(activity).map((l) => l.samples.map((s) => s.time))).toEqual([
      [500, 1000, 2999],
      [3000, 9000],
    ]);
  });

  it('should synthesise one lap when the activity has none', () => {
    const activity: Activity = { start: 0, end: 10, type: 'other', stats: {}, laps: [], samples: [{ time: 5 }] };
    expect(assignSamplesToLaps(activity)).toEqual([{ lap: { start: 0, end: 10, stats: {} }, samples: [{ time: 5 }] }]);
  });
});

describe('splitAtPauses', () => {
  it('should split at pause/resume markers and drop marker-only samples', () => {
    const runs = splitAtPauses([
      { time: 1, heartRate: 1 },
      { time: 2, heartRate: 2, marker: 'pause' },
      { time: 3, marker: 'resume' },
      { time: 4, heartRate: 4 },
      { time: 5, marker: 'pause' },
      { time: 6, heartRate: 6, marker: 'resume' },
      { time: 7 },
    ]);
    expect(runs.map((r) => r.map((s) => s.time))).toEqual([[1, 2], [4], [6, 7]]);
  });
});
