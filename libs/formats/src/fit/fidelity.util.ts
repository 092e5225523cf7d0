import { hasMeasurement, type Activity, type Sample } from '@tributary/activity';

/**
 * Shared fidelity rules for round-trip tests (FIT→FIT here, the format matrix in conversion.spec.ts).
 * Returns human-readable differences; an empty list means the copy is faithful within the rules.
 */
type Total = 'distance' | 'timerTime' | 'elapsedTime' | 'energy';

export interface FidelityRules {
  /** Positions must match within this many degrees (FIT semicircles: 8.4e-8°). */
  positionTolerance?: number;
  /** Sample times must match within this many ms (0 = exact). */
  timeTolerance?: number;
  /** Sample fields the target format cannot carry; not compared. */
  ignoreSampleFields?: readonly (keyof Sample)[];
  /** Per-field absolute tolerances overriding the FIT resolutions (e.g. integer cadence in TCX). */
  fieldTolerance?: Partial<Record<keyof Sample, number>>;
  /** Only samples with a position survive (GPX): compare the original's positioned samples. */
  onlyPositioned?: boolean;
  /** Compare laps (count, starts, totals). */
  laps?: boolean;
  /** Compare lap ends (formats that store them; TCX/PWX derive them). */
  lapEnds?: boolean;
  lapTotals?: readonly Total[];
  /** Activity totals to compare. */
  totals?: readonly Total[];
  /** Relative tolerance for lap and activity totals. */
  totalsTolerance?: number;
  /** Absolute slack per total on top of the relative tolerance (e.g. whole-second durations). */
  totalsSlack?: Partial<Record<Total, number>>;
  /** Compare pause/resume markers. */
  markers?: boolean;
}

/** The samples a format must keep: everything except marker-only points. */
export function dataSamples(a: Activity): Sample[] {
  return a.samples.filter(hasMeasurement);
}

/** Bound once: used per field of every sample, and a global lookup is slow inside a vm context (jest). */
const abs = Math.abs;

const FIELD_TOLERANCE: Partial<Record<keyof Sample, number>> = {
  altitude: 0.2 + 1e-9,
  speed: 0.001 + 1e-9,
  distance: 0.01 + 1e-9,
  heartRate: 0,
  cadence: 0,
  runCadence: 0,
  power: 0,
  temperature: 0,
  calories: 0,
};

/** A total the original had must survive within tolerance; one the copy adds (computed from samples) is fine. */
function totalKept(a: number | undefined, b: number | undefined, tol: number, slack: number): boolean {
  if (a === undefined) return true;
  if (b === undefined) return false;
  return Math.abs(a - b) <= Math.max(Math.abs(a), Math.abs(b)) * tol + slack;
}

function pauseMarkers(a: Activity): string {
  return a.samples
    .filter((s) => s.marker === 'pause' || s.marker === 'resume')
    .map((s) => `${s.marker}@${s.time}`)
    .join(',');
}

export function compareActivities(original: Activity, copy: Activity, rules: FidelityRules = {}): string[] {
  const diffs: string[] = [];
  const posTol = rules.positionTolerance ?? 1e-7;
  const timeTol = rules.timeTolerance ?? 0;
  const ignore = new Set(rules.ignoreSampleFields ?? []);
  const tolerances = (
    Object.entries({ ...FIELD_TOLERANCE, ...rules.fieldTolerance }) as [keyof Sample, number][]
  ).filter(([k]) => !ignore.has(k));
  const a = dataSamples(original).filter((s) => !rules.onlyPositioned || (s.lat !== undefined && s.lon !== undefined));
  const b = dataSamples(copy);
  if (a.length !== b.length) diffs.push(`sample count ${a.length} → ${b.length}`);
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n && diffs.length < 20; i += 1) {
    const x = a[i]!;
    const y = b[i]!;
    if (abs(x.time - y.time) > timeTol) diffs.push(`samples[${i}].time ${x.time} → ${y.time}`);
    if (!ignore.has('lat')) {
      for (const k of ['lat', 'lon'] as const) {
        const u = x[k];
        const v = y[k];
        if ((u === undefined) !== (v === undefined) || (u !== undefined && abs(u - v!) > posTol)) {
          diffs.push(`samples[${i}].${k} ${u} → ${v}`);
        }
      }
    }
    for (const [k, tol] of tolerances) {
      const u = x[k] as number | undefined;
      const v = y[k] as number | undefined;
      if ((u === undefined) !== (v === undefined) || (u !== undefined && abs(u - v!) > tol + 1e-9)) {
        diffs.push(`samples[${i}].${k} ${u} → ${v}`);
      }
    }
  }
  const tol = rules.totalsTolerance ?? 0.005;
  const slack = (k: Total) => rules.totalsSlack?.[k] ?? 0.011;
  if (rules.laps !== false) {
    if (original.laps.length !== copy.laps.length)
      diffs.push(`lap count ${original.laps.length} → ${copy.laps.length}`);
    original.laps.forEach((l, i) => {
      const m = copy.laps[i];
      if (!m) return;
      if (Math.abs(l.start - m.start) > timeTol) diffs.push(`laps[${i}].start ${l.start} → ${m.start}`);
      if (rules.lapEnds !== false && Math.abs(l.end - m.end) > Math.max(timeTol, 1)) {
        diffs.push(`laps[${i}].end ${l.end} → ${m.end}`);
      }
      for (const k of rules.lapTotals ?? ['distance', 'timerTime', 'energy']) {
        if (!totalKept(l.stats[k], m.stats[k], tol, slack(k)))
          diffs.push(`laps[${i}].stats.${k} ${l.stats[k]} → ${m.stats[k]}`);
      }
    });
  }
  for (const k of rules.totals ?? ['distance', 'timerTime', 'elapsedTime', 'energy']) {
    if (!totalKept(original.stats[k], copy.stats[k], tol, slack(k))) {
      diffs.push(`stats.${k} ${original.stats[k]} → ${copy.stats[k]}`);
    }
  }
  if (rules.markers !== false && pauseMarkers(original) !== pauseMarkers(copy)) {
    diffs.push(`pause markers ${pauseMarkers(original).slice(0, 80)} → ${pauseMarkers(copy).slice(0, 80)}`);
  }
  return diffs;
}
