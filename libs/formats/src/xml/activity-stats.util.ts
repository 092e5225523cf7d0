import {
  hasMeasurement,
  mergeMissingStats,
  mergeSameTimeSamples,
  statsFromSamples,
  type Activity,
  type ActivityStats,
  type Lap,
  type Sample,
} from '@tributary/activity';
import { FormatError } from '../format.error';
import { type XmlFormat } from './xml-reader.util';

/*
 * What the XML codecs (TCX, GPX, PWX) need on top of @tributary/activity's statistics. Every per-sample figure
 * (averages, extremes, distance, elevation gain/loss, elapsed/timer/moving time) comes from `statsFromSamples`, the
 * same code the FIT codec and the sync engine use, so a file converted between formats gets the same computed
 * figures whatever its path. Two consequences for what the XML codecs write and read, both deliberate:
 * - Elevation gain/loss use the shared 1 m hysteresis: GPS and barometric altitude jitter by tenths of a metre
 *   every second, and summing every tiny rise (as this file once did) inflates climbing on flat rides.
 * - Averages of sensor channels count only samples recorded while the timer ran, and speed.avg is distance ÷
 *   timer time (Garmin's avg_speed), not the mean of the speed channel.
 * A file's own figures always win over computed ones (`mergeMissingStats`, member by member).
 */

/** Activity totals: lap sums for the additive figures, sample statistics for the rest. */
export function activityStats(
  laps: readonly Lap[],
  samples: readonly Sample[],
  start: number,
  end: number,
): ActivityStats {
  const sum = (pick: (l: Lap) => number | undefined): number | undefined => {
    const values = laps.map(pick).filter((v): v is number => v !== undefined);
    return values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0);
  };
  const given: ActivityStats = {
    distance: sum((l) => l.stats.distance),
    timerTime: sum((l) => l.stats.timerTime),
    energy: sum((l) => l.stats.energy),
    strides: sum((l) => l.stats.strides),
    elapsedTime: (end - start) / 1000,
  };
  const stats = mergeMissingStats(given, statsFromSamples(samples));
  // Lap maxima can come from data the samples do not carry (a summary-only file).
  for (const field of ['heartRate', 'cadence', 'runCadence', 'power', 'speed'] as const) {
    const lapMax = laps.reduce((m, l) => Math.max(m, l.stats[field]?.max ?? -Infinity), -Infinity);
    if (Number.isFinite(lapMax) && (stats[field]?.max === undefined || stats[field].max < lapMax)) {
      stats[field] = { ...stats[field], max: lapMax };
    }
  }
  return stats;
}

/** The lap's figures, completed from its samples where the lap does not say; elapsed time is the lap's span. */
export function lapStats(lap: Pick<Lap, 'start' | 'end' | 'stats'>, samples: readonly Sample[]): ActivityStats {
  return mergeMissingStats(lap.stats, { ...statsFromSamples(samples), elapsedTime: (lap.end - lap.start) / 1000 });
}

export interface LapWithSamples {
  lap: Lap;
  samples: Sample[];
}

/**
 * The laps to write, each with its samples. A sample belongs to the last lap starting at or before it; samples before
 * the first lap go to the first, so no sample is dropped. An activity without laps gets one lap spanning it all.
 * Samples sharing a timestamp are merged (mergeSameTimeSamples).
 */
export function assignSamplesToLaps(activity: Activity): LapWithSamples[] {
  const laps =
    activity.laps.length > 0
      ? [...activity.laps].sort((a, b) => a.start - b.start)
      : [{ start: activity.start, end: activity.end, stats: activity.stats }];
  const out: LapWithSamples[] = laps.map((lap) => ({ lap, samples: [] }));
  for (const sample of activity.samples) {
    let lo = 0;
    let hi = laps.length - 1;
    // Binary search for the last lap with start <= sample.time.
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (laps[mid]!.start <= sample.time) lo = mid;
      else hi = mid - 1;
    }
    out[lo]!.samples.push(sample);
  }
  for (const entry of out) entry.samples = mergeSameTimeSamples(entry.samples);
  return out;
}

/**
 * Split a lap's samples into runs of recording separated by pauses: a 'pause' marker closes the current run (after
 * its point, if the sample has measurements), a 'resume' marker opens a new one. Marker-only samples are not points.
 */
export function splitAtPauses(samples: readonly Sample[]): Sample[][] {
  const runs: Sample[][] = [];
  let current: Sample[] = [];
  for (const s of samples) {
    if (s.marker === 'resume' && current.length > 0) {
      runs.push(current);
      current = [];
    }
    if (hasMeasurement(s) || s.marker === undefined) current.push(s);
    if (s.marker === 'pause' && current.length > 0) {
      runs.push(current);
      current = [];
    }
  }
  if (current.length > 0) runs.push(current);
  return runs;
}

/** Refuse what no writer can express: times that are not finite numbers would otherwise crash date formatting. */
export function assertEncodable(activity: Activity, format: XmlFormat): void {
  const bad = (t: number): boolean => !Number.isFinite(t) || Math.abs(t) > 8.64e15;
  if (bad(activity.start) || bad(activity.end)) {
    throw new FormatError(format, 'unencodable', 'the activity has no valid start/end time');
  }
  if (activity.laps.some((l) => bad(l.start) || bad(l.end))) {
    throw new FormatError(format, 'unencodable', 'a lap has an invalid start/end time');
  }
  if (activity.samples.some((s) => bad(s.time))) {
    throw new FormatError(format, 'unencodable', 'a sample has an invalid time');
  }
}

/** Smallest and largest of many numbers without spreading them onto the call stack. */
export function minOf(values: readonly number[], fallback: number): number {
  return values.reduce((m, v) => (v < m ? v : m), values.length === 0 ? fallback : Infinity);
}

export function maxOf(values: readonly number[], fallback: number): number {
  return values.reduce((m, v) => (v > m ? v : m), values.length === 0 ? fallback : -Infinity);
}
