import fc from 'fast-check';
import { ALL_ACTIVITY_TYPES, type Activity, type Lap, type Sample } from '@tributary/activity';
import { validateWithXmllint } from '../../../../test/support/xmllint';
import { FormatError } from '../format.error';
import { decodeGpx, encodeGpx } from '../gpx/gpx.codec';
import { decodePwx, encodePwx } from '../pwx/pwx.codec';
import { decodeTcx, encodeTcx } from '../tcx/tcx.codec';
import { SYNTHETIC_START } from './synthetic-activity.fixture';

// Every case shells out to xmllint: keep the count modest and the timeout generous for a loaded CI machine.
jest.setTimeout(120_000);

const value = fc.option(
  fc.oneof(
    fc.double(),
    fc.integer({ min: -1000, max: 70_000 }),
    fc.constantFrom(0, 180, -180, 254, 255, 256, 65535, 1e21),
  ),
  { nil: undefined },
);
// Mostly valid coordinates, so GPX (which needs positions) gets past 'unencodable' and its output is checked too.
const coordinate = (limit: number) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.double({ min: -limit, max: limit, noNaN: true }) },
    { weight: 1, arbitrary: value },
  );
const text = fc.option(
  fc.oneof(
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.constantFrom(']]>', '&amp;', '<a>', '\u0000', '\uD800', ' '),
  ),
  { nil: undefined },
);

const sample: fc.Arbitrary<Sample> = fc
  .record({
    offset: fc.integer({ min: 0, max: 3_600_000 }),
    lat: coordinate(90),
    lon: coordinate(180),
    altitude: value,
    distance: value,
    speed: value,
    heartRate: value,
    cadence: value,
    runCadence: value,
    power: value,
    temperature: value,
    marker: fc.option(fc.constantFrom('start' as const, 'pause' as const, 'resume' as const, 'end' as const), {
      nil: undefined,
    }),
  })
  .map(({ offset, ...rest }) => {
    const s: Sample = { time: SYNTHETIC_START + offset };
    for (const [k, v] of Object.entries(rest)) if (v !== undefined) (s as unknown as Record<string, unknown>)[k] = v;
    return s;
  });

const lap: fc.Arbitrary<Lap> = fc
  .record({
    from: fc.integer({ min: 0, max: 3_600_000 }),
    length: fc.integer({ min: 0, max: 3_600_000 }),
    sport: fc.option(fc.constantFrom(...ALL_ACTIVITY_TYPES), { nil: undefined }),
    distance: value,
    timerTime: value,
    energy: value,
    hrAvg: value,
    powerMax: value,
  })
  .map(({ from, length, sport, distance, timerTime, energy, hrAvg, powerMax }) => {
    const l: Lap = {
      start: SYNTHETIC_START + from,
      end: SYNTHETIC_START + from + length,
      stats: { distance, timerTime, energy, heartRate: { avg: hrAvg }, power: { max: powerMax } },
    };
    if (sport !== undefined) l.sport = sport;
    return l;
  });

const activity: fc.Arbitrary<Activity> = fc
  .record({
    type: fc.constantFrom(...ALL_ACTIVITY_TYPES),
    naive: fc.boolean(),
    name: text,
    notes: text,
    deviceName: text,
    serial: text,
    softwareVersion: text,
    laps: fc.array(lap, { maxLength: 4 }),
    samples: fc.array(sample, { maxLength: 40 }),
  })
  .map(({ type, naive, name, notes, deviceName, serial, softwareVersion, laps, samples }) => {
    const a: Activity = {
      start: SYNTHETIC_START,
      end: SYNTHETIC_START + 3_600_000,
      type,
      naive,
      laps,
      samples: [...samples].sort((x, y) => x.time - y.time),
      stats: {},
    };
    if (name !== undefined) a.name = name;
    if (notes !== undefined) a.notes = notes;
    if (deviceName !== undefined || serial !== undefined || softwareVersion !== undefined) {
      a.device = { name: deviceName, serial, softwareVersion, productId: 70_000 };
    }
    return a;
  });

const CODECS = [
  ['tcx', encodeTcx, decodeTcx],
  ['gpx', encodeGpx, decodeGpx],
  ['pwx', encodePwx, decodePwx],
] as const;

describe('XML encoders', () => {
  it.each(CODECS)(
    'should write schema-valid %s that decodes again, or refuse with FormatError',
    (format, encode, decode) => {
      fc.assert(
        fc.property(activity, (a) => {
          let xml: Uint8Array;
          try {
            xml = encode(a);
          } catch (error) {
            expect(error).toBeInstanceOf(FormatError);
            expect((error as FormatError).reason).toBe('unencodable');
            return;
          }
          const validation = validateWithXmllint(xml, format);
          expect(validation.errors).toBe('');
          expect(validation.valid).toBe(true);
          const back = decode(xml);
          expect(Number.isFinite(back.start)).toBe(true);
        }),
        { numRuns: 25, seed: 424242 },
      );
    },
  );
});
