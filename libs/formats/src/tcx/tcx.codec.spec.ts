import fc from 'fast-check';
import { readFileSync } from 'fs';
import path from 'path';
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
import { decodeTcx, encodeTcx } from './tcx.codec';

const FIXTURES = path.resolve(__dirname, '../../../..', '../shared/fixtures/tcx');
const fixture = (name: string): Uint8Array => readFileSync(path.join(FIXTURES, name));
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
];

// Round trips shell out to xmllint and the fuzz runs 200 cases: generous on a loaded 2-core CI machine.
jest.setTimeout(30_000);

const roundTrip = (activity: Activity): { xml: Uint8Array; back: Activity } =>
  schemaValidRoundTrip(activity, { encode: encodeTcx, decode: decodeTcx }, 'tcx');

const tcx = (body: string): Uint8Array =>
  utf8(
    `<?xml version="1.0"?><TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"><Activities><Activity Sport="Biking"><Id>2020-01-01T00:00:00Z</Id>${body}</Activity></Activities></TrainingCenterDatabase>`,
  );
const lap = (points: string, attrs = 'StartTime="2020-01-01T00:00:00Z"') =>
  `<Lap ${attrs}><TotalTimeSeconds>10</TotalTimeSeconds><DistanceMeters>0</DistanceMeters><Calories>0</Calories><Intensity>Active</Intensity><TriggerMethod>Manual</TriggerMethod><Track>${points}</Track></Lap>`;
const point = (inner: string) => `<Trackpoint><Time>2020-01-01T00:00:01Z</Time>${inner}</Trackpoint>`;

describe('decodeTcx', () => {
  it('should decode the Forerunner 410 run (test.tcx) with its laps, notes name and device', () => {
    const sut = decodeTcx(fixture('test.tcx'));
    expect(sut.type).toBe('running');
    expect(sut.name).toBe('Aerobics');
    expect(sut.samples).toHaveLength(384);
    expect(sut.laps).toHaveLength(3);
    expect(sut.start).toBe(Date.UTC(2012, 11, 26, 21, 29, 53));
    expect(sut.end).toBe(Date.UTC(2012, 11, 26, 22, 3, 5, 510));
    expect(sut.samples[0]).toEqual({
      time: Date.UTC(2012, 11, 26, 21, 29, 53),
      lat: 35.951880198,
      lon: -79.0931872185,
      altitude: 178.942626953,
      distance: 0,
      heartRate: 62,
    });
    expect(sut.laps[0]).toMatchObject({
      start: Date.UTC(2012, 11, 26, 21, 29, 53),
      trigger: 'distance',
      intensity: 'active',
      stats: { distance: 1609.34399414, timerTime: 608.47, energy: 94, heartRate: { avg: 139, max: 189 } },
    });
    expect(sut.laps[2]!.trigger).toBe('manual');
    expect(sut.stats.energy).toBe(379);
    expect(sut.stats.timerTime).toBeCloseTo(1992.78, 6);
    expect(sut.stats.distance).toBeCloseTo(4689.24267578, 6);
    expect(sut.device).toEqual({
      name: 'Forerunner 410 Software Version 2.20',
      serial: '3854007508',
      productId: 1250,
      softwareVersion: '2.20',
    });
    expect(sut.naive).toBeUndefined();
  });

  it('should decode no_hr.tcx with the same track and no heart rate', () => {
    const sut = decodeTcx(fixture('no_hr.tcx'));
    expect(sut.samples).toHaveLength(384);
    expect(sut.laps).toHaveLength(3);
    expect(sut.samples.every((s) => s.heartRate === undefined)).toBe(true);
    expect(sut.laps[1]!.stats).toMatchObject({ distance: 1609.34399414, timerTime: 714.8, energy: 151 });
  });

  it('should decode the vívoactive HR SUP session (sup_activity_1.tcx) with TPX speed and LX steps', () => {
    const sut = decodeTcx(fixture('sup_activity_1.tcx'));
    expect(sut.type).toBe('other');
    expect(sut.samples).toHaveLength(111);
    expect(sut.laps).toHaveLength(2);
    expect(sut.start).toBe(Date.UTC(2022, 6, 16, 16, 8, 25));
    expect(sut.samples[0]).toMatchObject({
      lat: 46.63692391477525,
      lon: 16.16836273111403,
      distance: 0.75,
      heartRate: 96,
      speed: 0.2680000066757202,
    });
    expect(sut.laps[0]!.stats).toMatchObject({
      distance: 1000,
      timerTime: 966.796,
      energy: 80,
      strides: 426,
      heartRate: { avg: 88, max: 108 },
    });
    expect(sut.device).toEqual({
      name: 'vívoactive HR',
      serial: '3937453043',
      productId: 2337,
      softwareVersion: '5.30',
    });
  });

  it('should decode the same file saved as UTF-16 with a BOM', () => {
    const text = new TextDecoder().decode(fixture('sup_activity_1.tcx'));
    const bytes = new Uint8Array(2 + text.length * 2);
    bytes.set([0xff, 0xfe]);
    for (let i = 0; i < text.length; i += 1) {
      bytes[2 + 2 * i] = text.charCodeAt(i) & 0xff;
      bytes[3 + 2 * i] = text.charCodeAt(i) >> 8;
    }
    const sut = decodeTcx(bytes);
    expect(sut.samples).toHaveLength(111);
    expect(sut.device?.name).toBe('vívoactive HR');
  });

  it('should turn several Tracks in one Lap into pause/resume markers', () => {
    const sut = decodeTcx(
      tcx(
        `<Lap StartTime="2020-01-01T00:00:00Z"><TotalTimeSeconds>3</TotalTimeSeconds><DistanceMeters>0</DistanceMeters><Calories>0</Calories><Intensity>Active</Intensity><TriggerMethod>Manual</TriggerMethod>` +
          `<Track><Trackpoint><Time>2020-01-01T00:00:00Z</Time></Trackpoint><Trackpoint><Time>2020-01-01T00:00:01Z</Time></Trackpoint></Track>` +
          `<Track><Trackpoint><Time>2020-01-01T00:01:00+00:00</Time></Trackpoint></Track></Lap>`,
      ),
    );
    expect(sut.samples.map((s) => s.marker)).toEqual([undefined, 'pause', 'resume']);
    expect(sut.laps[0]!.end).toBe(Date.UTC(2020, 0, 1, 0, 1, 0));
    expect(sut.laps[0]!.stats.timerTime).toBe(3);
  });

  it('should end the last lap on a whole millisecond when TotalTimeSeconds is not exact in binary', () => {
    const sut = decodeTcx(
      tcx(
        lap(`<Trackpoint><Time>2020-01-01T00:00:00Z</Time></Trackpoint>`).replace(
          '<TotalTimeSeconds>10</TotalTimeSeconds>',
          '<TotalTimeSeconds>1.005</TotalTimeSeconds>',
        ),
      ),
    );
    expect(sut.laps[0]!.end).toBe(Date.UTC(2020, 0, 1, 0, 0, 1, 5));
    expect(sut.end).toBe(Date.UTC(2020, 0, 1, 0, 0, 1, 5));
  });

  it('should read extensions whatever their namespace prefix (ax:, tpx:)', () => {
    const ext =
      '<Extensions><ax:TPX xmlns:ax="http://www.garmin.com/xmlschemas/ActivityExtension/v2"><ax:Speed>3.5</ax:Speed><ax:Watts>250</ax:Watts></ax:TPX></Extensions>';
    const ext2 =
      '<Extensions><tpx:TPX xmlns:tpx="http://www.garmin.com/xmlschemas/ActivityExtension/v2"><tpx:RunCadence>90</tpx:RunCadence></tpx:TPX></Extensions>';
    const sut = decodeTcx(
      tcx(
        lap(
          `<Trackpoint><Time>2020-01-01T00:00:00Z</Time><Cadence>85</Cadence>${ext}</Trackpoint>` +
            `<Trackpoint><Time>2020-01-01T00:00:01Z</Time>${ext2}</Trackpoint>`,
        ),
      ),
    );
    expect(sut.samples).toEqual([
      { time: Date.UTC(2020, 0, 1), cadence: 85, speed: 3.5, power: 250 },
      { time: Date.UTC(2020, 0, 1, 0, 0, 1), runCadence: 180 },
    ]);
  });

  it('should return zone-less times as a naive activity and honour offsets', () => {
    const naive = decodeTcx(
      tcx(
        lap(point('').replace('01Z', '01')).replace(
          'StartTime="2020-01-01T00:00:00Z"',
          'StartTime="2020-01-01T00:00:00"',
        ),
      ),
    );
    expect(naive.naive).toBe(true);
    expect(naive.start).toBe(Date.UTC(2020, 0, 1));
    const offset = decodeTcx(tcx(lap(point(''), 'StartTime="2020-01-01T02:00:00+02:00"')));
    expect(offset.start).toBe(Date.UTC(2020, 0, 1));
  });

  it.each<[string, Uint8Array, FormatErrorReason]>([
    ['0 bytes', new Uint8Array(0), 'empty'],
    [
      'a DOCTYPE with entities',
      utf8('<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "x">]><TrainingCenterDatabase>&a;</TrainingCenterDatabase>'),
      'entities_forbidden',
    ],
    [
      'an external entity',
      utf8(
        '<!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]><TrainingCenterDatabase>&x;</TrainingCenterDatabase>',
      ),
      'entities_forbidden',
    ],
    ['a truncated file', fixture('sup_activity_1.tcx').slice(0, 40_000), 'truncated'],
    ['a GPX file', utf8('<gpx version="1.1" creator="x"><trk/></gpx>'), 'not_this_format'],
    [
      'a course file (no Activities)',
      utf8('<TrainingCenterDatabase><Courses/></TrainingCenterDatabase>'),
      'no_activity',
    ],
    ['an Activity without laps', tcx(''), 'no_activity'],
    ['a Lap without StartTime', tcx(lap(point(''), '')), 'malformed'],
    ['a Trackpoint without Time', tcx(lap('<Trackpoint><AltitudeMeters>5</AltitudeMeters></Trackpoint>')), 'malformed'],
    ['a NaN heart rate', tcx(lap(point('<HeartRateBpm><Value>NaN</Value></HeartRateBpm>'))), 'malformed'],
    [
      'a huge latitude',
      tcx(
        lap(
          point('<Position><LatitudeDegrees>1e308</LatitudeDegrees><LongitudeDegrees>1</LongitudeDegrees></Position>'),
        ),
      ),
      'malformed',
    ],
    ['an infinite altitude', tcx(lap(point('<AltitudeMeters>-1e999</AltitudeMeters>'))), 'malformed'],
    ['garbage distance', tcx(lap(point('<DistanceMeters>12,5</DistanceMeters>'))), 'malformed'],
    ['a garbage time', tcx(lap('<Trackpoint><Time>2020-01-01T00:00:00ZZ</Time></Trackpoint>')), 'malformed'],
    ['JSON', utf8('{"activities": []}'), 'malformed'],
  ])('should refuse %s', (_label, input, reason) => {
    expect(formatErrorReason(() => decodeTcx(input))).toBe(reason);
  });

  it('should throw only FormatError on mutated and random input (bounded fuzz)', () => {
    const base = fixture('sup_activity_1.tcx');
    const input = mutatedXmlInput([{ bytes: base, weight: 4 }], '<TrainingCenterDatabase>');
    fc.assert(
      fc.property(input, (bytes) => {
        try {
          const activity = decodeTcx(bytes);
          expect(Array.isArray(activity.samples)).toBe(true);
          expect(Number.isFinite(activity.start)).toBe(true);
        } catch (error) {
          if (!(error instanceof FormatError)) throw error;
        }
      }),
      { numRuns: 200, seed: 20261123 },
    );
  });
});

describe('encodeTcx', () => {
  it.each(['test.tcx', 'no_hr.tcx', 'sup_activity_1.tcx'])('should round-trip %s through valid TCX', (name) => {
    const original = decodeTcx(fixture(name));
    const { back } = roundTrip(original);
    expect(sampleMismatches(back.samples, original.samples, FIELDS)).toEqual([]);
    expect(back.laps).toHaveLength(original.laps.length);
    back.laps.forEach((l, i) => {
      const o = original.laps[i]!;
      expect(l.start).toBe(o.start);
      expect(isClose(l.stats.distance, o.stats.distance)).toBe(true);
      expect(isClose(l.stats.timerTime, o.stats.timerTime)).toBe(true);
      expect(l.stats.energy).toBe(o.stats.energy);
    });
    expect(back.type).toBe(original.type);
    expect(back.name).toBe(original.name);
    expect(back.device).toEqual(original.device);
  });

  it('should round-trip a synthetic ride with laps, a pause, sensors and device', () => {
    const original = syntheticActivity('cycling');
    const { xml, back } = roundTrip(original);
    // TCX has no temperature: everything else per sample survives.
    expect(sampleMismatches(back.samples, original.samples, FIELDS)).toEqual([]);
    expect(back.samples.every((s) => s.temperature === undefined)).toBe(true);
    expect(back.samples.filter((s) => s.marker !== undefined).map((s) => [s.time, s.marker])).toEqual([
      [SYNTHETIC_START + 120_000, 'pause'],
      [SYNTHETIC_START + 180_000, 'resume'],
    ]);
    expect(new TextDecoder().decode(xml).match(/<Track>/g)).toHaveLength(3);
    expect(back.type).toBe('cycling');
    expect(back.name).toBe(original.name);
    expect(back.notes).toBe(original.notes);
    expect(back.device).toEqual({ name: 'Edge 530', serial: '3912345678', productId: 3121, softwareVersion: '9.75' });
    expect(back.laps.map((l) => [l.start, l.end, l.trigger, l.intensity])).toEqual(
      original.laps.map((l) => [l.start, l.end, l.trigger, l.intensity]),
    );
    back.laps.forEach((l, i) => {
      const o = original.laps[i]!;
      expect(isClose(l.stats.distance, o.stats.distance)).toBe(true);
      expect(l.stats.timerTime).toBe(o.stats.timerTime);
      expect(l.stats.energy).toBe(o.stats.energy);
    });
    expect(back.samples.filter((s) => s.power === 0).length).toBeGreaterThan(0);
  });

  it('should write run cadence as one foot in RunCadence and read it back as steps/min', () => {
    const original = syntheticActivity('running');
    const { xml, back } = roundTrip(original);
    expect(new TextDecoder().decode(xml)).toContain('<ns3:RunCadence>80</ns3:RunCadence>');
    expect(back.type).toBe('running');
    expect(sampleMismatches(back.samples, original.samples, ['runCadence', 'cadence'])).toEqual([]);
  });

  it('should write laps of different sports as a MultiSportSession with a Transition', () => {
    const base = syntheticActivity('cycling');
    const original: Activity = {
      ...base,
      type: 'triathlon',
      laps: [
        { start: base.start, end: base.start + 300_000, sport: 'cycling', stats: { timerTime: 240 } },
        { start: base.start + 300_000, end: base.start + 360_000, sport: 'transition', stats: { timerTime: 60 } },
        { start: base.start + 360_000, end: base.end, sport: 'running', stats: { timerTime: 240 } },
      ],
    };
    const { xml, back } = roundTrip(original);
    const text = new TextDecoder().decode(xml);
    expect(text).toContain('<MultiSportSession>');
    expect(text).toContain('<Transition StartTime="2024-05-01T06:05:00Z">');
    expect(back.type).toBe('multisport');
    expect(back.laps.map((l) => l.sport)).toEqual(['cycling', 'transition', 'running']);
    expect(back.samples).toHaveLength(original.samples.length);
    expect(back.name).toBe(original.name);
  });

  it('should keep naive times zone-less, drop values TCX cannot hold and still validate', () => {
    const original: Activity = {
      ...syntheticActivity('cycling'),
      naive: true,
      laps: [],
      samples: [
        { time: SYNTHETIC_START, heartRate: 0, cadence: 255, lat: 10, lon: 180, power: -5 },
        { time: SYNTHETIC_START + 1500, heartRate: 300, speed: 2 },
      ],
    };
    const { xml, back } = roundTrip(original);
    expect(new TextDecoder().decode(xml)).toContain('<Time>2024-05-01T06:00:00</Time>');
    expect(back.naive).toBe(true);
    expect(back.samples[0]).toEqual({ time: SYNTHETIC_START, lat: 10, lon: -180 });
    expect(back.samples[1]).toEqual({ time: SYNTHETIC_START + 1500, speed: 2 });
    expect(back.laps).toHaveLength(1);
  });

  it('should merge samples sharing a timestamp and treat marker-only samples as pause marks', () => {
    const t = SYNTHETIC_START;
    const original: Activity = {
      ...syntheticActivity('cycling'),
      laps: [],
      samples: [
        { time: t, lat: 1, lon: 2 },
        { time: t, heartRate: 120, lat: 9 },
        { time: t + 1000, heartRate: 121 },
        { time: t + 1000, marker: 'pause' },
        { time: t + 5000, marker: 'resume' },
        { time: t + 5000, heartRate: 122 },
      ],
    };
    const { back } = roundTrip(original);
    expect(back.samples).toEqual([
      { time: t, lat: 1, lon: 2, heartRate: 120 },
      { time: t + 1000, heartRate: 121, marker: 'pause' },
      { time: t + 5000, heartRate: 122, marker: 'resume' },
    ]);
  });

  it('should read several Activity elements of different sports as one multisport activity', () => {
    const activity = (sport: string, startTime: string) =>
      `<Activity Sport="${sport}"><Id>${startTime}</Id>${lap(`<Trackpoint><Time>${startTime}</Time></Trackpoint>`, `StartTime="${startTime}"`)}</Activity>`;
    const sut = decodeTcx(
      utf8(
        `<TrainingCenterDatabase><Activities>${activity('Biking', '2020-01-01T00:00:00Z')}${activity('Running', '2020-01-01T01:00:00Z')}</Activities></TrainingCenterDatabase>`,
      ),
    );
    expect(sut.type).toBe('multisport');
    expect(sut.laps.map((l) => l.sport)).toEqual(['cycling', 'running']);
    expect(sut.laps[0]!.end).toBe(Date.UTC(2020, 0, 1, 1));
  });

  it('should refuse an activity whose times are not numbers', () => {
    const broken = { ...syntheticActivity(), start: Number.NaN };
    expect(formatErrorReason(() => encodeTcx(broken))).toBe('unencodable');
  });
});
