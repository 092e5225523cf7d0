import fc from 'fast-check';
import { readFileSync } from 'fs';
import path from 'path';
import { haversineDistance, type Activity, type Sample } from '@tributary/activity';
import { schemaValidRoundTrip } from '../../../../test/support/xmllint';
import { FormatError, type FormatErrorReason } from '../format.error';
import {
  SYNTHETIC_START,
  isClose,
  sampleMismatches,
  syntheticActivity,
  formatErrorReason,
  mutatedXmlInput,
} from '../xml/synthetic-activity.fixture';
import { decodeGpx, encodeGpx, gpxTypeToActivityType } from './gpx.codec';

const FIXTURES = path.resolve(__dirname, '../../../..', '../shared/fixtures/gpx');
const fixture = (name: string): Uint8Array => readFileSync(path.join(FIXTURES, name));
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const FIELDS: (keyof Sample)[] = [
  'lat',
  'lon',
  'altitude',
  'heartRate',
  'cadence',
  'runCadence',
  'power',
  'speed',
  'temperature',
];

// Round trips shell out to xmllint and the fuzz runs 200 cases: generous on a loaded 2-core CI machine.
jest.setTimeout(30_000);

/** Length of the path through the samples' positions (every sample here has one). */
function pathLength(samples: readonly Sample[]): number {
  let total = 0;
  for (let i = 1; i < samples.length; i += 1) {
    const [a, b] = [samples[i - 1]!, samples[i]!];
    total += haversineDistance(a.lat!, a.lon!, b.lat!, b.lon!);
  }
  return total;
}

const roundTrip = (activity: Activity): { xml: Uint8Array; back: Activity } =>
  schemaValidRoundTrip(activity, { encode: encodeGpx, decode: decodeGpx }, 'gpx');

const gpx = (segments: string, extra = '') =>
  utf8(
    `<?xml version="1.0"?><gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1" xmlns:gpxdata="http://www.cluetrust.com/XML/GPXDATA/1/0" xmlns:ns3="http://www.garmin.com/xmlschemas/TrackPointExtension/v2"><trk>${extra}<trkseg>${segments}</trkseg></trk></gpx>`,
  );
const pt = (inner: string, attrs = 'lat="1" lon="2"') => `<trkpt ${attrs}>${inner}</trkpt>`;

describe('decodeGpx', () => {
  it('should read Garmin power, TrackPointExtension and a bare <power> (gpxpower.gpx)', () => {
    const sut = decodeGpx(fixture('gpxpower.gpx'));
    expect(sut.samples).toEqual([
      { time: Date.UTC(2020, 0, 1, 0, 0, 0), lat: 1, lon: 2, altitude: 5, heartRate: 120, cadence: 80, power: 200 },
      { time: Date.UTC(2020, 0, 1, 0, 0, 1), lat: 1, lon: 2, altitude: 5, power: 200 },
      { time: Date.UTC(2020, 0, 1, 0, 0, 2), lat: 1, lon: 2, altitude: 5 },
    ]);
    expect(sut.device).toEqual({ name: 't' });
    expect(sut.type).toBe('other');
    expect(sut.stats.power).toEqual({ avg: 200, min: 200, max: 200 });
  });

  it('should read the eTrex track (around-visnjan-with-car.gpx) and compute its distance', () => {
    const sut = decodeGpx(fixture('gpxpy_around-visnjan-with-car.gpx'));
    expect(sut.samples).toHaveLength(104);
    expect(sut.laps).toHaveLength(1);
    expect(sut.start).toBe(Date.UTC(2020, 11, 18, 6, 15, 50));
    expect(sut.end).toBe(Date.UTC(2020, 11, 18, 6, 24, 24));
    expect(sut.name).toBe('2020-12-18 07:24:29');
    expect(sut.device).toEqual({ name: 'eTrex 20x' });
    expect(sut.samples[0]).toEqual({ time: sut.start, lat: 45.273518851, lon: 13.7142099626, altitude: 211.15 });
    expect(sut.stats.distance).toBeCloseTo(2733.24, 1);
    expect(sut.stats.elapsedTime).toBe(514);
  });

  it('should read GPX 1.0 with one lap per non-empty segment (cerknicko-jezero.gpx)', () => {
    const sut = decodeGpx(fixture('gpxpy_cerknicko-jezero.gpx'));
    expect(sut.samples).toHaveLength(296);
    expect(sut.laps).toHaveLength(7);
    expect(sut.start).toBe(Date.UTC(2010, 7, 5, 14, 23, 59));
    expect(sut.end).toBe(Date.UTC(2010, 7, 5, 16, 23, 49));
    expect(sut.name).toBe('ACTIVE LOG');
    expect(sut.samples[0]).toMatchObject({ lat: 45.772175035, lon: 14.357659249, altitude: 542.320923 });
    expect(sut.laps[0]!.stats.distance).toBeCloseTo(1912.36, 1);
  });

  it('should skip untimed route segments next to timed ones (korita-zbevnica.gpx)', () => {
    const sut = decodeGpx(fixture('gpxpy_korita-zbevnica.gpx'));
    expect(sut.samples).toHaveLength(513);
    expect(sut.laps).toHaveLength(2);
    expect(sut.start).toBe(Date.UTC(2010, 9, 3, 9, 36, 30));
    expect(sut.end).toBe(Date.UTC(2010, 9, 3, 13, 19, 31));
  });

  it('should ignore an empty segment (track-with-empty-segment.gpx)', () => {
    const sut = decodeGpx(fixture('gpxpy_track-with-empty-segment.gpx'));
    expect(sut.samples).toHaveLength(9);
    expect(sut.laps).toHaveLength(1);
    expect(sut.stats.distance).toBeCloseTo(85.85, 1);
  });

  it('should refuse files without a recorded track, with a reason saying why', () => {
    const noTimes = (() => {
      try {
        decodeGpx(fixture('gpxpy_cerknicko-without-times.gpx'));
      } catch (error) {
        return error as FormatError;
      }
      return undefined;
    })();
    expect(noTimes?.reason).toBe('no_activity');
    expect(noTimes?.message).toContain('16 of 21 points have no <time>');
    for (const name of [
      'gpxpy_gpx1.1_with_extensions.gpx',
      'gpxpy_gpx_with_garmin_extension.gpx',
      'gpxpy_unicode_with_bom.gpx',
    ]) {
      expect(formatErrorReason(() => decodeGpx(fixture(name)))).toBe('no_activity');
    }
  });

  it('should read ClueTrust gpxdata and TrackPointExtension v2 speed, doubling cad for runs', () => {
    const sut = decodeGpx(
      gpx(
        pt(
          '<ele>3</ele><time>2020-01-01T00:00:00Z</time><extensions><gpxdata:hr>101.5</gpxdata:hr><gpxdata:cadence>85</gpxdata:cadence><gpxdata:temp>21.5</gpxdata:temp><gpxdata:distance>12.5</gpxdata:distance></extensions>',
        ) +
          pt(
            '<time>2020-01-01T00:00:01Z</time><extensions><ns3:TrackPointExtension><ns3:hr>150</ns3:hr><ns3:cad>88</ns3:cad><ns3:speed>3.2</ns3:speed><ns3:atemp>20</ns3:atemp></ns3:TrackPointExtension></extensions>',
          ),
        '<type>running</type>',
      ),
    );
    expect(sut.type).toBe('running');
    expect(sut.samples).toEqual([
      {
        time: Date.UTC(2020, 0, 1),
        lat: 1,
        lon: 2,
        altitude: 3,
        heartRate: 101.5,
        runCadence: 170,
        temperature: 21.5,
        distance: 12.5,
      },
      {
        time: Date.UTC(2020, 0, 1, 0, 0, 1),
        lat: 1,
        lon: 2,
        heartRate: 150,
        runCadence: 176,
        speed: 3.2,
        temperature: 20,
      },
    ]);
  });

  it('should map type names and Strava codes', () => {
    expect(gpxTypeToActivityType('9')).toBe('running');
    expect(gpxTypeToActivityType('1')).toBe('cycling');
    expect(gpxTypeToActivityType('cycling')).toBe('cycling');
    expect(gpxTypeToActivityType('Ride')).toBe('cycling');
    expect(gpxTypeToActivityType('Mountain Biking')).toBe('mountain_biking');
    expect(gpxTypeToActivityType('hiking')).toBe('hiking');
    expect(gpxTypeToActivityType('on_foot')).toBe('other');
    expect(gpxTypeToActivityType('constructor')).toBe('other');
    expect(gpxTypeToActivityType('jkljkl')).toBe('other');
  });

  it.each<[string, Uint8Array, FormatErrorReason]>([
    ['0 bytes', new Uint8Array(0), 'empty'],
    [
      'a billion-laughs DOCTYPE',
      utf8(
        '<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><gpx>&b;</gpx>',
      ),
      'entities_forbidden',
    ],
    [
      'an external entity',
      utf8('<!DOCTYPE gpx [<!ENTITY x SYSTEM "http://example.com/x">]><gpx>&x;</gpx>'),
      'entities_forbidden',
    ],
    ['a truncated file', fixture('gpxpy_around-visnjan-with-car.gpx').slice(0, 6000), 'truncated'],
    ['a TCX file', utf8('<TrainingCenterDatabase><Activities/></TrainingCenterDatabase>'), 'not_this_format'],
    ['a point without lat', gpx(pt('<time>2020-01-01T00:00:00Z</time>', 'lon="2"')), 'malformed'],
    ['a garbage latitude', gpx(pt('<time>2020-01-01T00:00:00Z</time>', 'lat="abc" lon="2"')), 'malformed'],
    ['a latitude of 95', gpx(pt('<time>2020-01-01T00:00:00Z</time>', 'lat="95" lon="2"')), 'malformed'],
    [
      'a NaN heart rate',
      gpx(pt('<time>2020-01-01T00:00:00Z</time><extensions><hr>NaN</hr></extensions>')),
      'malformed',
    ],
    ['a huge elevation', gpx(pt('<ele>99999999999999999999</ele><time>2020-01-01T00:00:00Z</time>')), 'malformed'],
    ['a garbage time', gpx(pt('<time>now</time>')), 'malformed'],
    ['points without any time', gpx(pt('<ele>1</ele>') + pt('<ele>2</ele>')), 'no_activity'],
    [
      'points with some times missing',
      gpx(pt('<time>2020-01-01T00:00:00Z</time>') + pt('<ele>2</ele>')),
      'no_activity',
    ],
  ])('should refuse %s', (_label, input, reason) => {
    expect(formatErrorReason(() => decodeGpx(input))).toBe(reason);
  });

  it('should throw only FormatError on mutated and random input (bounded fuzz)', () => {
    const base = fixture('gpxpy_around-visnjan-with-car.gpx');
    const input = mutatedXmlInput([{ bytes: base, weight: 4 }], '<gpx><trk><trkseg>');
    fc.assert(
      fc.property(input, (bytes) => {
        try {
          const activity = decodeGpx(bytes);
          expect(activity.samples.length).toBeGreaterThan(0);
        } catch (error) {
          if (!(error instanceof FormatError)) throw error;
        }
      }),
      { numRuns: 200, seed: 20261123 },
    );
  });
});

describe('encodeGpx', () => {
  it.each([
    'gpxpower.gpx',
    'gpxpy_around-visnjan-with-car.gpx',
    'gpxpy_cerknicko-jezero.gpx',
    'gpxpy_korita-zbevnica.gpx',
    'gpxpy_track-with-empty-segment.gpx',
  ])('should round-trip %s through valid GPX 1.1', (name) => {
    const original = decodeGpx(fixture(name));
    const { back } = roundTrip(original);
    expect(sampleMismatches(back.samples, original.samples, FIELDS)).toEqual([]);
    expect(back.laps).toHaveLength(original.laps.length);
    back.laps.forEach((l, i) => {
      expect(l.start).toBe(original.laps[i]!.start);
      expect(l.end).toBe(original.laps[i]!.end);
      if ((original.laps[i]!.stats.distance ?? 0) > 1) {
        expect(isClose(l.stats.distance, original.laps[i]!.stats.distance)).toBe(true);
      }
    });
    expect(back.name).toBe(original.name);
    expect(back.device).toEqual(original.device);
  });

  it('should round-trip a synthetic ride: points, sensors and temperature; laps as segments', () => {
    const original = syntheticActivity('cycling');
    const { xml, back } = roundTrip(original);
    const text = new TextDecoder().decode(xml);
    expect(text).toContain('<pwr:PowerInWatts>0</pwr:PowerInWatts>');
    expect(text).toContain('xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v2"');
    expect(sampleMismatches(back.samples, original.samples, FIELDS)).toEqual([]);
    // GPX keeps no cumulative distance and no pause markers: both are documented losses.
    expect(back.samples.every((s) => s.distance === undefined && s.marker === undefined)).toBe(true);
    expect(back.laps.map((l) => l.start)).toEqual(original.laps.map((l) => l.start));
    expect(
      isClose(
        back.stats.distance,
        pathLength(original.samples.filter((s) => s.time < SYNTHETIC_START + 300_000)) +
          pathLength(original.samples.filter((s) => s.time >= SYNTHETIC_START + 300_000)),
      ),
    ).toBe(true);
    expect(back.type).toBe('cycling');
    expect(back.name).toBe(original.name);
    expect(back.notes).toBe(original.notes);
    expect(back.device).toEqual({ name: 'Edge 530' });
  });

  it('should write running cadence as one foot and read it back as steps/min', () => {
    const original = syntheticActivity('running');
    const { xml, back } = roundTrip(original);
    expect(new TextDecoder().decode(xml)).toContain('<gpxtpx:cad>80</gpxtpx:cad>');
    expect(back.type).toBe('running');
    expect(sampleMismatches(back.samples, original.samples, ['runCadence', 'cadence'])).toEqual([]);
  });

  it('should leave out points without a position and refuse an activity with none', () => {
    const base = syntheticActivity('cycling');
    const mixed: Activity = { ...base, samples: [{ time: base.start, heartRate: 90 }, ...base.samples] };
    expect(roundTrip(mixed).back.samples).toHaveLength(base.samples.length);
    const indoor: Activity = { ...base, samples: base.samples.map((s) => ({ time: s.time, power: s.power })) };
    expect(formatErrorReason(() => encodeGpx(indoor))).toBe('unencodable');
  });
});
