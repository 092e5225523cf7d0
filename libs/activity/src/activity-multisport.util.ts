import { familyOf, type ActivityType } from './activity-type';
import { type Activity, type ActivityStats, type Lap, type Sample } from './activity.model';
import { mergeMissingStats, statsFromSamples } from './activity-stats.util';

/** True when the laps span more than one sport (a triathlon, duathlon, brick, …) or the type says so. */
export function isMultisport(activity: Pick<Activity, 'type' | 'laps'>): boolean {
  const sports = new Set(activity.laps.map((l) => l.sport).filter((s): s is ActivityType => s !== undefined));
  if (sports.size > 1) return true;
  return activity.type === 'multisport' || familyOf(activity.type) === 'multisport';
}

/** Sums lap totals; averages and extremes are left for the samples to fill. */
function sumLapTotals(laps: readonly Lap[]): ActivityStats {
  const out: ActivityStats = {};
  for (const key of ['distance', 'elapsedTime', 'timerTime', 'movingTime', 'energy', 'strides'] as const) {
    const values = laps.map((l) => l.stats[key]);
    if (values.every((v) => v !== undefined)) out[key] = values.reduce<number>((a, v) => a + v, 0);
  }
  const gains = laps.map((l) => l.stats.elevation?.gain);
  const losses = laps.map((l) => l.stats.elevation?.loss);
  if (gains.every((v) => v !== undefined) || losses.every((v) => v !== undefined)) {
    out.elevation = {};
    if (gains.every((v) => v !== undefined)) out.elevation.gain = gains.reduce<number>((a, v) => a + v, 0);
    if (losses.every((v) => v !== undefined)) out.elevation.loss = losses.reduce<number>((a, v) => a + v, 0);
  }
  return out;
}

/**
 * Splits a multisport activity into one activity per leg. A leg is a run of consecutive laps with the same
 * `sport`; a lap without a sport joins the leg before it. Transitions are KEPT as their own legs with type
 * `transition` (not merged into a neighbour), because FIT writes them as their own sessions and a destination
 * that cannot take them can skip them by type. Each leg gets the samples inside its laps' time span (the last leg
 * also takes a sample exactly on its end), totals summed from its laps, and the rest computed from its samples.
 * A single-sport activity comes back as a one-element array holding the activity itself.
 */
export function splitMultisport(activity: Activity): Activity[] {
  const sports = new Set(activity.laps.map((l) => l.sport).filter((s) => s !== undefined));
  if (sports.size <= 1) return [activity];
  const groups: Lap[][] = [];
  let current: Lap[] = [];
  let currentSport: ActivityType | undefined;
  for (const lap of activity.laps) {
    const sport = lap.sport ?? currentSport;
    if (current.length > 0 && sport !== currentSport) {
      groups.push(current);
      current = [];
    }
    current.push(lap);
    currentSport = sport;
  }
  if (current.length > 0) groups.push(current);

  return groups.map((laps, gi) => {
    const start = laps[0]!.start;
    const end = Math.max(...laps.map((l) => l.end));
    const isLast = gi === groups.length - 1;
    const samples: Sample[] = activity.samples.filter(
      (s) => s.time >= start && (s.time < end || (isLast && s.time === end)),
    );
    const computed = statsFromSamples(samples, { start, end, endInclusive: isLast });
    const type = laps[0]!.sport ?? activity.type;
    const leg: Activity = {
      ...activity,
      start,
      end,
      type,
      laps,
      samples,
      stats: mergeMissingStats(sumLapTotals(laps), computed),
    };
    delete leg.original;
    return leg;
  });
}
