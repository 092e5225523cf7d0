import { type Activity, type ActivityStats, type Sample, type StatValue } from './activity.model';
import { hasMeasurement } from './activity-samples.util';

/** Why an activity is refused before upload: tapiriik's CheckSanity reasons as stable codes. */
export type SanityCode =
  | 'no_laps'
  | 'flags_undecided'
  | 'too_few_points'
  | 'distance_too_long'
  | 'starts_too_early'
  | 'starts_in_future'
  | 'ends_in_future'
  | 'bad_duration'
  | 'lap_stats_mismatch'
  | 'bad_coordinate'
  | 'single_point'
  | 'all_altitudes_zero';

export interface SanityProblem {
  code: SanityCode;
  message: string;
}

export interface SanityOptions {
  /** "Now" in epoch ms, for the future checks; defaults to Date.now(). */
  now?: number;
}

const DAY_MS = 86_400_000;
const EARLIEST_START = Date.UTC(1995, 0, 1);
const MAX_DISTANCE_M = 1_000_000;
/** Relative difference tolerated between a single lap's totals and the activity's (rounding in the source). */
const LAP_TOLERANCE = 0.01;

/**
 * Every reason the activity is not fit to send to another service, at least those tapiriik's CheckSanity used.
 * Returns the problems (empty when sane) instead of throwing, so the caller can record all of them at once.
 */
export function checkSanity(activity: Activity, options: SanityOptions = {}): SanityProblem[] {
  const now = options.now ?? Date.now();
  const problems: SanityProblem[] = [];
  const add = (code: SanityCode, message: string) => problems.push({ code, message });

  if (activity.laps.length === 0) add('no_laps', 'The activity has no laps.');
  if (activity.stationary === undefined || activity.gps === undefined) {
    add('flags_undecided', 'Whether the activity is stationary and has GPS is undecided.');
  }
  const dataPoints = activity.samples.filter(hasMeasurement);
  if (activity.stationary === false && dataPoints.length <= 1) {
    add('too_few_points', `A moving activity needs at least 2 samples, it has ${dataPoints.length}.`);
  }
  const distance = activity.stats.distance;
  if (distance !== undefined && distance > MAX_DISTANCE_M) {
    add('distance_too_long', `Distance ${(distance / 1000).toFixed(1)} km is over 1000 km.`);
  }
  if (activity.start < EARLIEST_START) add('starts_too_early', 'The activity starts before 1995-01-01.');
  if (activity.start > now + 5 * DAY_MS) add('starts_in_future', 'The activity starts more than 5 days in the future.');
  if (activity.end > now + 10 * DAY_MS) add('ends_in_future', 'The activity ends more than 10 days in the future.');
  const duration = activity.end - activity.start;
  if (!(duration > 0) || duration > 5 * DAY_MS) {
    add('bad_duration', `Duration ${duration / 1000} s is not between 0 and 5 days.`);
  }
  if (activity.laps.length === 1 && !lapMatchesActivity(activity.laps[0]!.stats, activity.stats)) {
    add('lap_stats_mismatch', "The only lap's totals differ from the activity's.");
  }
  const badCoordinate = activity.samples.find((s) => hasBadCoordinate(s));
  if (badCoordinate) {
    add('bad_coordinate', `Sample at ${new Date(badCoordinate.time).toISOString()} has an invalid position.`);
  }
  const unpaused = dataPoints.length;
  const geographic = activity.samples.filter((s) => s.lat !== undefined && s.lon !== undefined).length;
  if (unpaused === 1 || geographic === 1) add('single_point', 'The activity has exactly one point.');
  const altitudes = activity.samples.filter((s) => s.altitude !== undefined);
  if (altitudes.length > 0 && altitudes.every((s) => s.altitude === 0)) {
    add('all_altitudes_zero', 'Every altitude is 0 (a device default, not a measurement).');
  }
  return problems;
}

function hasBadCoordinate(s: Sample): boolean {
  if (s.lat === undefined && s.lon === undefined) return false;
  if (s.lat === undefined || s.lon === undefined) return true;
  if (!Number.isFinite(s.lat) || !Number.isFinite(s.lon)) return true;
  if (s.lat === 0 && s.lon === 0) return true;
  return s.lat < -90 || s.lat > 90 || s.lon < -180 || s.lon > 180;
}

function close(a: number | undefined, b: number | undefined): boolean {
  if (a === undefined || b === undefined) return true;
  return Math.abs(a - b) <= Math.max(Math.abs(a), Math.abs(b)) * LAP_TOLERANCE + 1e-6;
}

function lapMatchesActivity(lap: ActivityStats, act: ActivityStats): boolean {
  return (
    close(lap.distance, act.distance) &&
    close(lap.timerTime, act.timerTime) &&
    close(lap.energy, act.energy) &&
    close(lap.heartRate?.avg, act.heartRate?.avg) &&
    close(lap.power?.avg, act.power?.avg)
  );
}

/** One value `cleanStats` removed, with where it was and why. */
export interface CleanedField {
  /** e.g. `stats.heartRate.max`, `laps[2].stats.power.avg`, `samples[17].heartRate`. */
  path: string;
  value: number;
  reason: 'out_of_range' | 'negative';
}

type Range = readonly [number, number];
/** tapiriik's CleanStats ranges, in this model's units (speed m/s, energy kcal, distance m). */
export const STAT_RANGES = {
  power: [0, 5000],
  speed: [0, 150 / 3.6],
  elevation: [-500, 8850],
  heartRate: [15, 300],
  cadence: [0, 255],
  runCadence: [0, 255],
  temperature: [-62, 50],
  energy: [1, 65535],
  distance: [0, 1_000_000],
} as const satisfies Record<string, Range>;

/** Sample fields that cannot be negative; a negative value is a sensor or decoder glitch and becomes 0. */
const NON_NEGATIVE_SAMPLE_FIELDS = [
  'distance',
  'speed',
  'heartRate',
  'cadence',
  'runCadence',
  'power',
  'calories',
] as const satisfies readonly (keyof Sample)[];

function inRange(v: number, [lo, hi]: Range): boolean {
  return Number.isFinite(v) && v >= lo && v <= hi;
}

function cleanStatBlock(stats: ActivityStats, prefix: string, cleaned: CleanedField[]): ActivityStats {
  const out: ActivityStats = { ...stats };
  for (const key of ['distance', 'energy'] as const) {
    const v = out[key];
    if (v !== undefined && !inRange(v, STAT_RANGES[key])) {
      cleaned.push({ path: `${prefix}.${key}`, value: v, reason: 'out_of_range' });
      delete out[key];
    }
  }
  for (const key of ['power', 'speed', 'elevation', 'heartRate', 'cadence', 'runCadence', 'temperature'] as const) {
    const sv = out[key];
    if (!sv) continue;
    const copy: StatValue = { ...sv };
    // gain/loss are amounts, not elevations: they are only checked for sign.
    for (const m of ['avg', 'min', 'max'] as const) {
      const v = copy[m];
      if (v !== undefined && !inRange(v, STAT_RANGES[key])) {
        cleaned.push({ path: `${prefix}.${key}.${m}`, value: v, reason: 'out_of_range' });
        delete copy[m];
      }
    }
    for (const m of ['gain', 'loss'] as const) {
      const v = copy[m];
      if (v !== undefined && !(v >= 0)) {
        cleaned.push({ path: `${prefix}.${key}.${m}`, value: v, reason: 'negative' });
        delete copy[m];
      }
    }
    if (Object.keys(copy).length === 0) delete out[key];
    else out[key] = copy;
  }
  return out;
}

/**
 * A copy with implausible statistics removed (tapiriik's CleanStats ranges, for the activity and every lap) and
 * negative sample values that cannot be negative set to 0 (CleanWaypoints). Reports every change it made.
 */
export function cleanStats(activity: Activity): { activity: Activity; cleaned: CleanedField[] } {
  const cleaned: CleanedField[] = [];
  const stats = cleanStatBlock(activity.stats, 'stats', cleaned);
  const laps = activity.laps.map((lap, i) => ({
    ...lap,
    stats: cleanStatBlock(lap.stats, `laps[${i}].stats`, cleaned),
  }));
  const samples = activity.samples.map((s, i) => {
    let copy: Sample | undefined;
    for (const key of NON_NEGATIVE_SAMPLE_FIELDS) {
      const v = s[key];
      if (v !== undefined && v < 0) {
        copy ??= { ...s };
        copy[key] = 0;
        cleaned.push({ path: `samples[${i}].${key}`, value: v, reason: 'negative' });
      }
    }
    return copy ?? s;
  });
  return { activity: { ...activity, stats, laps, samples }, cleaned };
}
