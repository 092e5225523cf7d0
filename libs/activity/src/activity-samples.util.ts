import { type Sample } from './activity.model';

/**
 * Whether the sample carries any measurement. A sample with only `time` (and perhaps a `marker`) is a timeline
 * mark, not a recorded point. A member present with the value `undefined` is no measurement either.
 */
export function hasMeasurement(s: Sample): boolean {
  return (
    s.lat !== undefined ||
    s.lon !== undefined ||
    s.altitude !== undefined ||
    s.distance !== undefined ||
    s.speed !== undefined ||
    s.heartRate !== undefined ||
    s.cadence !== undefined ||
    s.runCadence !== undefined ||
    s.power !== undefined ||
    s.temperature !== undefined ||
    s.calories !== undefined
  );
}

/**
 * Merges neighbouring samples that share a timestamp, field by field: the first defined value wins, and a marker
 * is taken from whichever sample has one (the first, when both do). Devices and apps (Strava's Android recorder,
 * FIT files with a GPS and a sensor record per second) write two samples for one instant; kept apart, anything
 * that recomputes speed as distance ÷ Δt divides by zero, and TCX/GPX cannot hold duplicate times. The input is
 * not modified; samples that are not merged are returned as they are.
 */
export function mergeSameTimeSamples(samples: readonly Sample[]): Sample[] {
  const out: Sample[] = [];
  for (const s of samples) {
    const last = out[out.length - 1];
    if (last !== undefined && last.time === s.time) {
      const merged: Sample = { ...s };
      for (const key of Object.keys(last) as (keyof Sample)[]) {
        if (last[key] !== undefined) (merged as unknown as Record<string, unknown>)[key] = last[key];
      }
      out[out.length - 1] = merged;
    } else {
      out.push(s);
    }
  }
  return out;
}
