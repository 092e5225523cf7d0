import { type Activity } from '@tributary/activity';
import { FormatError } from '../format.error';
import { compareActivities, dataSamples } from './fidelity.util';
import { fixtureFiles, readFixture } from './fit-fixtures.util';
import { type FitFileMessages } from './fit-messages.types';
import { fitIntegrity, readFitWithSdk } from './fit-sdk.decoder';
import { decodeFit, encodeFit } from './fit.codec';

// Each round trip reads the re-encoded bytes with the SDK for its own assertions and then decodes the same bytes
// with decodeFit, which reads them with the SDK again. The SDK is deterministic and nothing mutates its output, so
// the second read of the same Uint8Array reuses the first (it was a sixth of this file's time).
jest.mock('./fit-sdk.decoder', () => {
  const actual = jest.requireActual<{ readFitWithSdk: (bytes: Uint8Array) => FitFileMessages }>('./fit-sdk.decoder');
  const read = new WeakMap<Uint8Array, FitFileMessages>();
  return {
    ...actual,
    readFitWithSdk: (bytes: Uint8Array) => {
      let messages = read.get(bytes);
      if (messages === undefined) {
        messages = actual.readFitWithSdk(bytes);
        read.set(bytes, messages);
      }
      return messages;
    },
  };
});

const files = fixtureFiles('fit');
const decoded = new Map<string, Activity>();
const decode = (name: string): Activity => {
  let a = decoded.get(name);
  if (!a) {
    a = decodeFit(readFixture('fit', name));
    decoded.set(name, a);
  }
  return a;
};
/** The FormatError code `fn` throws (undefined when it does not throw, a marker when it throws something else). */
function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof FormatError ? err.code : `not a FormatError: ${String(err)}`;
  }
  return undefined;
}

const warningCodes = (a: Activity) => (a.warnings ?? []).map((w) => w.code);
const markers = (a: Activity, m: string) => a.samples.filter((s) => s.marker === m).length;

describe('decodeFit', () => {
  it('should have the fixtures', () => {
    expect(files.length).toBeGreaterThanOrEqual(28);
  });

  it.each(files)('should decode %s into a consistent activity', (name) => {
    const sut = decode(name);
    expect(sut.samples.length).toBeGreaterThan(0);
    expect(sut.laps.length).toBeGreaterThan(0);
    expect(sut.end).toBeGreaterThan(sut.start);
    expect(sut.original?.format).toBe('fit');
    expect(Buffer.compare(sut.original!.bytes, readFixture('fit', name))).toBe(0);
    expect(sut.samples.findIndex((s, i) => i > 0 && s.time < sut.samples[i - 1]!.time)).toBe(-1);
    const outside = sut.samples.filter(
      (s) =>
        s.time < sut.start ||
        s.time > sut.end ||
        (s.lat !== undefined && Math.abs(s.lat) > 90) ||
        (s.lon !== undefined && Math.abs(s.lon) > 180),
    );
    expect(outside).toEqual([]);
    expect(sut.gps).toBe(sut.samples.some((s) => s.lat !== undefined));
  });

  it('should map a fenix 5 run: device, run cadence in steps/min, pauses and the UTC offset hint', () => {
    const sut = decode('garmin-fenix-5-run.fit');
    expect(sut.type).toBe('running');
    expect(sut.device).toMatchObject({
      manufacturer: 'garmin',
      product: 'fenix5',
      productId: 2697,
      serial: '3945849289',
    });
    expect(sut.utcOffsetHint).toBe(-420);
    expect(sut.samples[0]).toMatchObject({ heartRate: 61, runCadence: 0, marker: 'start' });
    expect(sut.samples.every((s) => s.cadence === undefined)).toBe(true);
    expect(sut.stats.runCadence?.avg).toBeCloseTo(2 * (83 + 0.671875), 6);
    expect(sut.stats.distance).toBeCloseTo(157.56, 2);
    expect(sut.samples[0]!.lat).toBeCloseTo((456099128 * 180) / 2 ** 31, 9);
  });

  it('should turn auto-pauses into pause/resume markers and timer time', () => {
    const sut = decode('garmin-edge-500-activity.fit');
    expect(markers(sut, 'start')).toBe(1);
    expect(markers(sut, 'pause')).toBe(markers(sut, 'resume'));
    expect(markers(sut, 'pause')).toBeGreaterThan(40);
    expect(markers(sut, 'end')).toBe(1);
    expect(sut.stats.timerTime).toBeLessThan(sut.stats.elapsedTime!);
  });

  it.each([
    ['fitparser_examples_road-with-power.fit', 'road_cycling'],
    ['fitparser_examples_jumps-mtb.fit', 'mountain_biking'],
    ['20170518-191602-1740899583.fit', 'indoor_rowing'],
    ['event_timestamp.fit', 'pool_swimming'],
    ['fitparser_examples_failed.fit', 'yoga'],
    ['fitparser_test_snorkeling-unknown-sport.fit', 'other'],
    ['garmin-fenix-5-walk.fit', 'walking'],
    ['sample_mulitple_header.fit', 'triathlon'],
    ['activity-large-fenxi2-multisport.fit', 'multisport'],
  ])('should map the sport of %s to %s', (name, type) => {
    expect(decode(name).type).toBe(type);
  });

  it('should keep the source sport when the hub has no type for it', () => {
    expect(decode('fitparser_test_snorkeling-unknown-sport.fit').sourceSport).toBe('fit:snorkeling');
  });

  it('should mark indoor files trainer and without GPS', () => {
    const rowing = decode('20170518-191602-1740899583.fit');
    expect(rowing.trainer).toBe(true);
    expect(rowing.gps).toBe(false);
    expect(decode('sample-activity-indoor-trainer.fit').gps).toBe(false);
  });

  it('should fill pool-swim heart rate from hr messages when records have none', () => {
    const sut = decode('event_timestamp.fit');
    expect(sut.samples.filter((s) => s.heartRate !== undefined).length).toBeGreaterThan(4000);
  });

  it('should give multisport laps the sport of their leg', () => {
    const sut = decode('sample_mulitple_header.fit');
    expect(sut.laps.map((l) => l.sport)).toEqual([
      'open_water_swimming',
      'transition',
      'cycling',
      'transition',
      'running',
    ]);
    const run = sut.samples.filter((s) => s.time >= sut.laps[4]!.start);
    expect(run.some((s) => s.runCadence !== undefined)).toBe(true);
    expect(run.every((s) => s.cadence === undefined)).toBe(true);
  });

  it('should read both FR255 triathlon orders with fit-file-parser and get the same activity', () => {
    const first = decode('fitparser_examples_triathlon_summary_first.fit');
    const last = decode('fitparser_examples_triathlon_summary_last.fit');
    expect(warningCodes(first)).toContain('fallback_decoder');
    expect(first.type).toBe('triathlon');
    expect(first.samples).toHaveLength(4043);
    expect(first.laps).toHaveLength(11);
    expect(compareActivities(first, last)).toEqual([]);
    expect(first.utcOffsetHint).toBe(-300);
  });

  it('should read compressed timestamps with the fallback and flag device-relative times', () => {
    const sut = decode('compressed-speed-distance.fit');
    expect(warningCodes(sut)).toEqual(expect.arrayContaining(['fallback_decoder', 'device_relative_time']));
    expect(dataSamples(sut).length).toBeGreaterThan(750);
    expect(sut.laps).toHaveLength(11);
    const last = dataSamples(sut).at(-1)!;
    expect(last.distance).toBeGreaterThan(10_000);
    expect(last.distance).toBeLessThan(10_500);
  });

  it('should keep the complete first file of a chain whose second part is corrupt', () => {
    const sut = decode('activity-settings-corruptheader.fit');
    expect(sut.partial).toBeUndefined();
    expect(warningCodes(sut)).toEqual(['corrupt_trailer']);
    expect(sut.samples).toHaveLength(14);
  });

  it('should record a truncated file as partial, or refuse it when partial data is not allowed', () => {
    const bytes = readFixture('fit', 'activity-unexpected-eof.fit');
    const sut = decodeFit(bytes);
    expect(sut.partial).toBe(true);
    expect(warningCodes(sut)).toContain('truncated');
    expect(errorCode(() => decodeFit(bytes, { allowPartial: false }))).toBe('format_truncated');
  });

  it('should recover the readable part of the corrupt Strava app file, merging same-second records', () => {
    const sut = decode('strava-android-app-201.10-b1218918.fit');
    expect(sut.partial).toBe(true);
    expect(warningCodes(sut)).toEqual(
      expect.arrayContaining(['truncated', 'time_outliers_dropped', 'duplicate_times_merged']),
    );
    expect(sut.end - sut.start).toBe(3_558_000);
  });

  it('should drop out-of-span records and sort the 1 s steps back of the fenix 2 multisport', () => {
    const sut = decode('activity-large-fenxi2-multisport.fit');
    expect(warningCodes(sut)).toContain('unsorted_times');
    expect(sut.laps[0]!.sport).toBe('other');
    expect(sut.laps.at(-1)!.sport).toBe('cycling');
  });

  it('should synthesise a lap when the file has none', () => {
    const sut = decode('fitparser_examples_failed.fit');
    expect(warningCodes(sut)).toContain('synthesised_laps');
    expect(sut.laps).toHaveLength(1);
  });

  it.each([
    ['empty', new Uint8Array(0), 'format_empty'],
    ['not FIT', new TextEncoder().encode('<?xml version="1.0"?><gpx/>'), 'format_not_this_format'],
    ['header only', readFixture('fit', 'garmin-fenix-5-run.fit').slice(0, 14), 'format_truncated'],
  ])('should refuse %s input with a FormatError', (_label, bytes, code) => {
    expect(errorCode(() => decodeFit(bytes))).toBe(code);
  });
});

describe('encodeFit', () => {
  it.each(files)('should round-trip %s through FIT', (name) => {
    const original = decode(name);
    const bytes = encodeFit(original);
    const sdk = readFitWithSdk(bytes);
    expect(sdk.errors).toEqual([]);
    expect(fitIntegrity(bytes)).toEqual({ isFit: true, intact: true });
    const sut = decodeFit(bytes);
    // Only a fact about the data itself may survive a clean re-encode.
    expect(warningCodes(sut).filter((c) => c !== 'device_relative_time')).toEqual([]);
    expect(sut.type).toBe(original.type);
    expect(sut.start).toBe(original.start);
    expect(sut.end).toBe(original.end);
    expect(sut.laps.map((l) => [l.sport, l.trigger, l.intensity])).toEqual(
      original.laps.map((l) => [l.sport, l.trigger, l.intensity]),
    );
    expect(sut.device?.manufacturer).toBe(original.device?.manufacturer);
    expect(sut.device?.productId).toBe(original.device?.productId);
    expect(sut.utcOffsetHint).toBe(original.utcOffsetHint);
    expect(compareActivities(original, sut)).toEqual([]);
    const legs = original.laps.filter((l, i) => i === 0 || l.sport !== original.laps[i - 1]!.sport).length;
    expect(sdk.sessions).toHaveLength(original.laps.some((l) => l.sport !== undefined) ? legs : 1);
  });

  it('should write one session per multisport leg with its sport', () => {
    const sdk = readFitWithSdk(encodeFit(decode('sample_mulitple_header.fit')));
    expect(sdk.sessions.map((s) => `${s.sport}/${s.subSport}`)).toEqual([
      'swimming/openWater',
      'transition/generic',
      'cycling/generic',
      'transition/generic',
      'running/generic',
    ]);
    expect(sdk.sessions.map((s) => s.numLaps)).toEqual([1, 1, 1, 1, 1]);
    expect(sdk.activity?.timestamp).toBeDefined();
  });

  it('should write a synthetic activity with sub-second times, bike cadence and out-of-range values', () => {
    const t0 = Date.UTC(2024, 4, 1, 6, 0, 0);
    const activity: Activity = {
      start: t0,
      end: t0 + 4_000,
      type: 'gravel_cycling',
      laps: [],
      samples: [
        { time: t0, lat: 45.1, lon: -122.5, heartRate: 100, cadence: 85.5, power: 250, altitude: -20.4 },
        { time: t0 + 1_400, lat: 45.10001, lon: -122.50001, heartRate: 300, cadence: 90, power: 0 },
        { time: t0 + 4_000, lat: 45.10002, lon: -122.50002, heartRate: 120, temperature: -5 },
      ],
      stats: {},
      utcOffsetHint: 120,
    };
    const sut = decodeFit(encodeFit(activity));
    expect(sut.type).toBe('gravel_cycling');
    expect(sut.samples.map((s) => s.time)).toEqual([t0, t0 + 1_000, t0 + 4_000]);
    expect(sut.samples.map((s) => s.marker)).toEqual(['start', undefined, 'end']);
    expect(sut.samples[0]).toMatchObject({ heartRate: 100, cadence: 85.5, power: 250 });
    expect(sut.samples[0]!.altitude).toBeCloseTo(-20.4, 6);
    expect(sut.samples[1]!.heartRate).toBeUndefined();
    expect(sut.samples[1]!.power).toBe(0);
    expect(sut.samples[2]!.temperature).toBe(-5);
    expect(sut.laps).toHaveLength(1);
    expect(sut.utcOffsetHint).toBe(120);
  });

  it('should write a summary-only (stationary) activity with its totals', () => {
    const t0 = Date.UTC(2024, 0, 2, 18, 0, 0);
    const manual: Activity = {
      start: t0,
      end: t0 + 1_800_000,
      type: 'strength_training',
      stationary: true,
      gps: false,
      laps: [{ start: t0, end: t0 + 1_800_000, stats: { timerTime: 1500, energy: 210 } }],
      samples: [],
      stats: { timerTime: 1500, energy: 210, heartRate: { avg: 120, max: 160 } },
    };
    const sut = decodeFit(encodeFit(manual));
    expect(sut).toMatchObject({
      start: t0,
      end: t0 + 1_800_000,
      type: 'strength_training',
      stationary: true,
      gps: false,
    });
    expect(sut.stats).toMatchObject({ timerTime: 1500, energy: 210, heartRate: { avg: 120, max: 160 } });
    expect(sut.samples.map((s) => s.marker)).toEqual(['start', 'end']);
  });

  it('should refuse an activity without valid times', () => {
    const bad: Activity = { start: NaN, end: 0, type: 'running', laps: [], samples: [], stats: {} };
    expect(errorCode(() => encodeFit(bad))).toBe('format_unencodable');
  });
});
