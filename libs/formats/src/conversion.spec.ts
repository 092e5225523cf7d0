import {
  areTypesCompatible,
  fillMissingStats,
  isMultisport,
  type Activity,
  type ActivityFormat,
} from '@tributary/activity';
import { compareActivities, dataSamples, type FidelityRules } from './fit/fidelity.util';
import { fixtureFiles, readFixture } from './fit/fit-fixtures.util';
import { FormatError } from './format.error';
import { decodeActivity, detectFormat, encodeActivity } from './format-registry';

/**
 * The conversion matrix: every fixture (FIT, TCX, GPX) is decoded, written in each format, read back, and compared
 * with the fidelity rules below. Each rule that relaxes the default is a documented loss of the target format
 * (formats.md §2–§4, §6), not a tolerance for a bug:
 *
 * FIT  — times rounded to whole seconds (sources with sub-second times), otherwise lossless for the model.
 * TCX  — no temperature; cadence/RunCadence are integers (bike cadence ±0.5 rpm, run cadence ±1 step/min since
 *        TCX stores per-leg strides); lap end is not stored (StartTime + TotalTimeSeconds is timer time);
 *        no pause markers; Calories are required, so a missing energy comes back as 0.
 * GPX  — only points with a position survive (no indoor/pool files: FormatError 'unencodable'); no cumulative
 *        distance, calories, lap summaries; integer cadence like TCX; no pause markers.
 * PWX  — cadence is an unsignedByte (integer); segment summaries carry no calories; durations are whole
 *        seconds; no pause markers.
 * Multisport → GPX/PWX: neither format has legs, so a run leg's cadence comes back as plain (per-leg) cadence.
 * FIT sources → FIT are covered sample by sample, at full length, in fit/fit.codec.spec.ts and skipped here.
 * To keep the suite fast on 2 cores, activities longer than MAX_SAMPLES are cut to their first MAX_SAMPLES samples
 * (laps past the cut dropped, the cut lap's summary recomputed) before the round trip.
 */
const MAX_SAMPLES = 2000;
const RULES: Record<ActivityFormat, FidelityRules> = {
  fit: { timeTolerance: 500 },
  tcx: {
    ignoreSampleFields: ['temperature', 'calories'],
    fieldTolerance: { cadence: 0.5, runCadence: 1 },
    lapEnds: false,
    lapTotals: ['distance', 'timerTime'],
    totals: ['distance', 'timerTime'],
    markers: false,
  },
  gpx: {
    onlyPositioned: true,
    ignoreSampleFields: ['distance', 'calories', 'speed'],
    fieldTolerance: { cadence: 0.5, runCadence: 1 },
    laps: false,
    totals: [],
    markers: false,
  },
  pwx: {
    ignoreSampleFields: ['calories'],
    fieldTolerance: { cadence: 0.5, runCadence: 1 },
    lapEnds: false,
    lapTotals: ['distance'],
    totals: ['distance', 'elapsedTime'],
    totalsSlack: { elapsedTime: 1 },
    markers: false,
  },
};

type Source = 'fit' | 'tcx' | 'gpx';
const sources: [Source, string][] = (['fit', 'tcx', 'gpx'] as const).flatMap((f) =>
  fixtureFiles(f).map((n): [Source, string] => [f, n]),
);
const targets: ActivityFormat[] = ['fit', 'tcx', 'gpx', 'pwx'];

/** The FormatError code `fn` throws (undefined when it does not throw, a marker when it throws something else). */
function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof FormatError ? err.code : `not a FormatError: ${String(err)}`;
  }
  return undefined;
}

const cache = new Map<string, Activity | FormatError>();
/** The first `max` samples as a complete activity of their own. */
function head(a: Activity, max: number): Activity {
  if (a.samples.length <= max) return a;
  const samples = a.samples.slice(0, max);
  const end = samples[samples.length - 1]!.time;
  const laps = a.laps.filter((l) => l.start <= end).map((l) => (l.end > end ? { ...l, end, stats: {} } : l));
  const cut = fillMissingStats({ ...a, end, samples, laps, stats: {} });
  delete cut.original;
  // Totals as the sum of the laps, like a device's session: formats without activity totals (TCX) sum the laps.
  const sum = (k: 'distance' | 'timerTime') =>
    cut.laps.every((l) => l.stats[k] !== undefined) ? cut.laps.reduce((t, l) => t + l.stats[k]!, 0) : undefined;
  return {
    ...cut,
    stats: {
      ...cut.stats,
      distance: sum('distance') ?? cut.stats.distance,
      timerTime: sum('timerTime') ?? cut.stats.timerTime,
    },
  };
}

function source(format: Source, name: string): Activity | FormatError {
  const key = `${format}/${name}`;
  if (!cache.has(key)) {
    try {
      cache.set(key, head(decodeActivity(readFixture(format, name)), MAX_SAMPLES));
    } catch (err) {
      if (!(err instanceof FormatError)) throw err;
      cache.set(key, err);
    }
  }
  return cache.get(key)!;
}

/** Fixtures that are not activities at all; they must fail with a clear reason, never a crash. */
const NOT_ACTIVITIES: Record<string, string> = {
  'gpxpy_cerknicko-without-times.gpx': 'format_no_activity',
  'gpxpy_gpx1.1_with_extensions.gpx': 'format_no_activity',
  'gpxpy_gpx_with_garmin_extension.gpx': 'format_no_activity',
  'gpxpy_unicode_with_bom.gpx': 'format_no_activity',
};

describe('conversion matrix', () => {
  it.each(sources)('should decode %s fixture %s or refuse it with a reason', (format, name) => {
    const a = source(format, name);
    if (a instanceof FormatError) {
      expect(a.code).toBe(NOT_ACTIVITIES[name]);
    } else {
      expect(NOT_ACTIVITIES[name]).toBeUndefined();
      expect(a.samples.length).toBeGreaterThan(0);
    }
  });

  const cases = sources.flatMap(([format, name]) =>
    targets
      .filter((t) => !(format === 'fit' && t === 'fit'))
      .map((t): [Source, string, ActivityFormat] => [format, name, t]),
  );

  it.each(cases)('should convert %s %s to %s and back within the format rules', (format, name, target) => {
    const original = source(format, name);
    if (original instanceof FormatError) return;
    if (target === 'gpx' && !original.samples.some((s) => s.lat !== undefined)) {
      expect(errorCode(() => encodeActivity(original, 'gpx'))).toBe('format_unencodable');
      return;
    }
    const bytes = encodeActivity(original, target);
    expect(detectFormat(bytes)).toBe(target);
    const copy = decodeActivity(bytes, target);
    expect(areTypesCompatible(original.type, copy.type)).toBe(true);
    const rules = { ...RULES[target] };
    if ((target === 'gpx' || target === 'pwx') && isMultisport(original)) {
      const perLeg = (x: Activity) =>
        dataSamples(x)
          .filter((s) => s.lat !== undefined || target === 'pwx')
          .map((s) => s.cadence ?? (s.runCadence === undefined ? undefined : s.runCadence / 2));
      const [a, b] = [perLeg(original), perLeg(copy)];
      expect(
        b.filter((c, i) => (c === undefined) !== (a[i] === undefined) || Math.abs((c ?? 0) - (a[i] ?? 0)) > 0.5),
      ).toEqual([]);
      rules.ignoreSampleFields = [...(rules.ignoreSampleFields ?? []), 'cadence', 'runCadence'];
    }
    expect(compareActivities(original, copy, rules)).toEqual([]);
  });
});

describe('encodeActivity', () => {
  it('should pass the original bytes through only when asked and the format matches', () => {
    const bytes = readFixture('fit', 'garmin-fenix-5-run.fit');
    const a = decodeActivity(bytes);
    expect(encodeActivity(a, 'fit', { preferOriginal: true })).toBe(a.original!.bytes);
    expect(Buffer.compare(encodeActivity(a, 'fit'), bytes)).not.toBe(0);
    expect(detectFormat(encodeActivity(a, 'tcx', { preferOriginal: true }))).toBe('tcx');
  });
});
