import fc from 'fast-check';
import { type Activity, type Sample } from '@tributary/activity';
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
import { decodePwx, encodePwx, pwxSportFor, pwxSportToActivityType } from './pwx.codec';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const FIELDS: (keyof Sample)[] = [
  'lat',
  'lon',
  'altitude',
  'distance',
  'heartRate',
  'cadence',
  'runCadence',
  'power',
  'speed',
  'temperature',
];

/** Shaped like TrainingPeaks Device Agent output: local time without offset, segments, samples, an extension. */
const DEVICE_AGENT_PWX = `<?xml version="1.0" encoding="UTF-8"?>
<pwx xmlns="http://www.peaksware.com/PWX/1/0" version="1.0" creator="winDeviceAgent/3.0.1">
  <workout>
    <athlete><name>A</name><weight>70</weight></athlete>
    <sportType>Run</sportType>
    <title>10k race</title>
    <cmt>Windy</cmt>
    <device id="3812345678"><make>Garmin</make><model>Forerunner 15</model></device>
    <time>2014-10-11T15:08:45</time>
    <summarydata><beginning>0</beginning><duration>6</duration><durationstopped>1</durationstopped><hr max="150" min="140" avg="145"/><dist>12</dist><climbingelevation>2</climbingelevation></summarydata>
    <segment><name>Lap 1</name><summarydata><beginning>0</beginning><duration>3</duration><dist>6</dist></summarydata></segment>
    <segment><name>Lap 2</name><summarydata><beginning>3</beginning><duration>3</duration><dist>6</dist></summarydata></segment>
    <sample><timeoffset>0</timeoffset><hr>140</hr><spd>2.5</spd><cad>85</cad><dist>0</dist><lat>-34.9</lat><lon>-57.95</lon><alt>20.4</alt><temp>17</temp></sample>
    <sample><timeoffset>2.5</timeoffset><hr>145</hr><cad>86</cad><dist>6</dist></sample>
    <sample><timeoffset>5</timeoffset><hr>150</hr><dist>12</dist><extension><fingerprint>x</fingerprint></extension></sample>
  </workout>
</pwx>`;

// Round trips shell out to xmllint and the fuzz runs 200 cases: generous on a loaded 2-core CI machine.
jest.setTimeout(30_000);

const roundTrip = (activity: Activity): { xml: Uint8Array; back: Activity } =>
  schemaValidRoundTrip(activity, { encode: encodePwx, decode: decodePwx }, 'pwx');

const pwx = (workout: string) =>
  utf8(`<pwx xmlns="http://www.peaksware.com/PWX/1/0" version="1.0" creator="t"><workout>${workout}</workout></pwx>`);
const withSample = (sample: string) =>
  pwx(
    `<device/><time>2020-01-01T00:00:00Z</time><summarydata><beginning>0</beginning><duration>1</duration></summarydata><sample>${sample}</sample>`,
  );

describe('decodePwx', () => {
  it('should decode a Device Agent workout: naive local time, segments as laps, samples by offset', () => {
    const sut = decodePwx(utf8(DEVICE_AGENT_PWX));
    const start = Date.UTC(2014, 9, 11, 15, 8, 45);
    expect(sut.naive).toBe(true);
    expect(sut.start).toBe(start);
    expect(sut.end).toBe(start + 6000);
    expect(sut.type).toBe('running');
    expect(sut.name).toBe('10k race');
    expect(sut.notes).toBe('Windy');
    expect(sut.device).toEqual({ manufacturer: 'Garmin', product: 'Forerunner 15', serial: '3812345678' });
    expect(sut.samples).toEqual([
      {
        time: start,
        heartRate: 140,
        speed: 2.5,
        runCadence: 170,
        distance: 0,
        lat: -34.9,
        lon: -57.95,
        altitude: 20.4,
        temperature: 17,
      },
      { time: start + 2500, heartRate: 145, runCadence: 172, distance: 6 },
      { time: start + 5000, heartRate: 150, distance: 12 },
    ]);
    expect(sut.laps.map((l) => [l.start - start, l.end - start, l.stats.distance])).toEqual([
      [0, 3000, 6],
      [3000, 6000, 6],
    ]);
    expect(sut.stats).toMatchObject({
      elapsedTime: 6,
      timerTime: 5,
      distance: 12,
      heartRate: { avg: 145, min: 140, max: 150 },
      elevation: { gain: 2 },
    });
    expect(sut.gps).toBe(true);
  });

  it('should place segments on whole milliseconds when their second offsets are not exact in binary', () => {
    const sut = decodePwx(
      utf8(
        DEVICE_AGENT_PWX.replace(
          '<beginning>3</beginning><duration>3</duration>',
          '<beginning>1.005</beginning><duration>4.995</duration>',
        ),
      ),
    );
    const start = sut.start;
    expect(sut.laps.map((l) => [l.start - start, l.end - start])).toEqual([
      [0, 3000],
      [1005, 6000],
    ]);
  });

  it('should map PWX sport types both ways', () => {
    expect(pwxSportToActivityType('Mountain Bike')).toBe('mountain_biking');
    expect(pwxSportToActivityType('XC Ski')).toBe('cross_country_skiing');
    expect(pwxSportToActivityType('Day Off')).toBe('other');
    expect(pwxSportToActivityType('constructor')).toBe('other');
    expect(pwxSportFor('hiking')).toBe('Walk');
    expect(pwxSportFor('virtual_ride')).toBe('Bike');
    expect(pwxSportFor('triathlon')).toBe('Brick');
    expect(pwxSportFor('yoga')).toBe('Other');
  });

  it.each<[string, Uint8Array, FormatErrorReason]>([
    ['0 bytes', new Uint8Array(0), 'empty'],
    ['a DOCTYPE with entities', utf8('<!DOCTYPE pwx [<!ENTITY a "b">]><pwx>&a;</pwx>'), 'entities_forbidden'],
    ['a truncated file', utf8(DEVICE_AGENT_PWX.slice(0, 700)), 'truncated'],
    ['a GPX file', utf8('<gpx version="1.1" creator="x"/>'), 'not_this_format'],
    ['a pwx without workout', utf8('<pwx version="1.0" creator="x"/>'), 'no_activity'],
    [
      'a workout without time',
      pwx('<device/><summarydata><beginning>0</beginning><duration>1</duration></summarydata>'),
      'no_activity',
    ],
    ['a sample without timeoffset', withSample('<hr>100</hr>'), 'malformed'],
    ['a NaN heart rate', withSample('<timeoffset>0</timeoffset><hr>NaN</hr>'), 'malformed'],
    ['a huge timeoffset', withSample('<timeoffset>1e300</timeoffset>'), 'malformed'],
    ['a garbage latitude', withSample('<timeoffset>0</timeoffset><lat>north</lat><lon>1</lon>'), 'malformed'],
    [
      'a garbage time',
      pwx(
        '<device/><time>2020-01-01 noon</time><summarydata><beginning>0</beginning><duration>1</duration></summarydata>',
      ),
      'malformed',
    ],
  ])('should refuse %s', (_label, input, reason) => {
    expect(formatErrorReason(() => decodePwx(input))).toBe(reason);
  });

  it('should throw only FormatError on mutated and random input (bounded fuzz)', () => {
    const base = encodePwx(syntheticActivity('cycling')).slice(0, 20_000);
    const input = mutatedXmlInput(
      [
        { bytes: utf8(DEVICE_AGENT_PWX), weight: 4 },
        { bytes: base, weight: 2 },
      ],
      '<pwx><workout>',
    );
    fc.assert(
      fc.property(input, (bytes) => {
        try {
          const activity = decodePwx(bytes);
          expect(Number.isFinite(activity.end)).toBe(true);
        } catch (error) {
          if (!(error instanceof FormatError)) throw error;
        }
      }),
      { numRuns: 200, seed: 20261123 },
    );
  });
});

describe('encodePwx', () => {
  it('should round-trip the Device Agent workout through valid PWX', () => {
    const original = decodePwx(utf8(DEVICE_AGENT_PWX));
    const { xml, back } = roundTrip(original);
    expect(new TextDecoder().decode(xml)).toContain('<time>2014-10-11T15:08:45</time>');
    expect(back.naive).toBe(true);
    expect(sampleMismatches(back.samples, original.samples, FIELDS)).toEqual([]);
    expect(back.laps.map((l) => [l.start, l.end])).toEqual(original.laps.map((l) => [l.start, l.end]));
    expect(back.device).toEqual(original.device);
    expect(back.stats).toMatchObject({ elapsedTime: 6, timerTime: 5, distance: 12 });
  });

  it('should round-trip a synthetic ride with every sensor channel, laps and device', () => {
    const original = syntheticActivity('cycling');
    const { back } = roundTrip(original);
    expect(sampleMismatches(back.samples, original.samples, FIELDS)).toEqual([]);
    expect(back.type).toBe('cycling');
    expect(back.name).toBe(original.name);
    expect(back.notes).toBe(original.notes);
    expect(back.start).toBe(SYNTHETIC_START);
    expect(back.end).toBe(original.end);
    expect(back.laps.map((l) => [l.start, l.end])).toEqual(original.laps.map((l) => [l.start, l.end]));
    back.laps.forEach((l, i) => {
      const o = original.laps[i]!;
      expect(isClose(l.stats.distance, o.stats.distance)).toBe(true);
      expect(isClose(l.stats.timerTime, o.stats.timerTime)).toBe(true);
    });
    expect(back.stats.timerTime).toBe(540);
    expect(back.device).toEqual({ product: 'Edge 530', serial: '3912345678' });
  });

  it('should write running cadence as one foot and read it back as steps/min', () => {
    const original = syntheticActivity('running');
    const { back } = roundTrip(original);
    expect(back.type).toBe('running');
    expect(sampleMismatches(back.samples, original.samples, ['runCadence', 'cadence'])).toEqual([]);
  });

  it('should refuse samples before the start, which PWX offsets cannot express', () => {
    const base = syntheticActivity('cycling');
    const early: Activity = { ...base, samples: [{ time: base.start - 1000, heartRate: 90 }, ...base.samples] };
    expect(formatErrorReason(() => encodePwx(early))).toBe('unencodable');
  });
});
