import { type WeeklyTotal } from '@tributary/db';
import { typeLabel } from '../activities/activity-format.util';

export interface TypeTotal {
  type: string;
  label: string;
  count: number;
  distance: number;
  duration: number;
}

export interface WeeklyStats {
  /** Mondays (YYYY-MM-DD), oldest first. */
  weeks: string[];
  /** Stacks for the weekly charts: the biggest types by time, the rest summed as "Other types". */
  series: { name: string; distance: number[]; duration: number[] }[];
  byType: TypeTotal[];
  totals: { count: number; distance: number; duration: number };
}

const DAY_MS = 86_400_000;
const MAX_STACKS = 5;

/** The Monday (UTC) of the week containing `at`. */
export function mondayOf(at: Date): Date {
  const day = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
  return new Date(day.getTime() - ((day.getUTCDay() + 6) % 7) * DAY_MS);
}

/** The `count` Mondays ending with the current week, oldest first. */
export function weekStarts(now: Date, count: number): Date[] {
  const last = mondayOf(now).getTime();
  return Array.from({ length: count }, (_, i) => new Date(last - (count - 1 - i) * 7 * DAY_MS));
}

/** Folds the per-week, per-type rows into chart stacks and per-type totals; weeks without activity are zeros. */
export function weeklyStats(rows: readonly WeeklyTotal[], weeks: readonly Date[]): WeeklyStats {
  const keys = weeks.map((w) => w.toISOString().slice(0, 10));
  const index = new Map(keys.map((k, i) => [k, i]));
  const inRange = rows.filter((r) => index.has(r.week.toISOString().slice(0, 10)));
  const byTypeMap = new Map<string, TypeTotal>();
  for (const r of inRange) {
    const t = byTypeMap.get(r.type) ?? { type: r.type, label: typeLabel(r.type), count: 0, distance: 0, duration: 0 };
    t.count += r.count;
    t.distance += r.distance;
    t.duration += r.duration;
    byTypeMap.set(r.type, t);
  }
  const byType = [...byTypeMap.values()].sort((a, b) => b.duration - a.duration || a.type.localeCompare(b.type));
  const stacked = byType.length > MAX_STACKS ? byType.slice(0, MAX_STACKS - 1) : byType;
  const stackOf = new Map(stacked.map((t, i) => [t.type, i]));
  const series = stacked.map((t) => ({
    name: t.label,
    distance: keys.map(() => 0),
    duration: keys.map(() => 0),
  }));
  if (byType.length > stacked.length) {
    series.push({ name: 'Other types', distance: keys.map(() => 0), duration: keys.map(() => 0) });
  }
  for (const r of inRange) {
    const w = index.get(r.week.toISOString().slice(0, 10))!;
    const s = series[stackOf.get(r.type) ?? series.length - 1]!;
    s.distance[w]! += r.distance;
    s.duration[w]! += r.duration;
  }
  return {
    weeks: keys,
    series,
    byType,
    totals: byType.reduce(
      (acc, t) => ({
        count: acc.count + t.count,
        distance: acc.distance + t.distance,
        duration: acc.duration + t.duration,
      }),
      { count: 0, distance: 0, duration: 0 },
    ),
  };
}
