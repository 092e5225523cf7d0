import { type Sample } from './activity.model';
import { hasMeasurement, mergeSameTimeSamples } from './activity-samples.util';

describe('hasMeasurement', () => {
  it('should tell recorded points from timeline marks', () => {
    expect(hasMeasurement({ time: 1, power: 0 })).toBe(true);
    expect(hasMeasurement({ time: 1, calories: 3, marker: 'pause' })).toBe(true);
    expect(hasMeasurement({ time: 1, marker: 'resume' })).toBe(false);
    expect(hasMeasurement({ time: 1 })).toBe(false);
    expect(hasMeasurement({ time: 1, heartRate: undefined })).toBe(false);
  });
});

describe('mergeSameTimeSamples', () => {
  it('should merge neighbours with the same time field by field, first value winning', () => {
    expect(
      mergeSameTimeSamples([
        { time: 1, lat: 1, lon: 2 },
        { time: 1, heartRate: 90, lat: 5 },
        { time: 2, heartRate: 91 },
      ]),
    ).toEqual([
      { time: 1, lat: 1, lon: 2, heartRate: 90 },
      { time: 2, heartRate: 91 },
    ]);
  });

  it('should keep a marker from either sample and fill explicit gaps of the first', () => {
    expect(
      mergeSameTimeSamples([
        { time: 1, heartRate: 120, power: undefined },
        { time: 1, marker: 'pause', power: 200 },
        { time: 5, marker: 'resume' },
        { time: 5, heartRate: 122, marker: 'end' },
      ]),
    ).toEqual([
      { time: 1, heartRate: 120, power: 200, marker: 'pause' },
      { time: 5, heartRate: 122, marker: 'resume' },
    ]);
  });

  it('should merge runs of more than two and leave the input untouched', () => {
    const input: Sample[] = [{ time: 1, lat: 1 }, { time: 1, lon: 2 }, { time: 1, lat: 9, altitude: 3 }, { time: 2 }];
    const copy = structuredClone(input);
    const sut = mergeSameTimeSamples(input);
    expect(sut).toEqual([{ time: 1, lat: 1, lon: 2, altitude: 3 }, { time: 2 }]);
    expect(input).toEqual(copy);
    expect(sut[1]).toBe(input[3]);
  });
});
