import fc from 'fast-check';
import { DateTime } from 'luxon';
import { type Activity, type ActivitySummary } from '@tributary/activity';
import { InvalidTimezoneError, TimezoneStateError } from './sync.error';
import {
  adjustTimezone,
  defineTimezone,
  ensureTimezone,
  firstLocatedSample,
  fixedOffsetZone,
  instantFromWallClock,
  mostCommonTimezone,
  offsetAt,
  resolveTimezone,
  timezoneAt,
  wallClockFromInstant,
  wallClockStart,
  zoneActivity,
} from './timezone.util';

const HOUR = 3_600_000;
const utc = (iso: string): number => Date.parse(`${iso}Z`);

describe('timezoneAt', () => {
  it.each([
    [52.52, 13.405, 'Europe/Berlin'],
    [48.85, 2.35, 'Europe/Paris'],
    [40.71, -74.0, 'America/New_York'],
    [22.57, 88.36, 'Asia/Kolkata'],
    [47.56, -52.71, 'America/St_Johns'],
    [-33.87, 151.21, 'Australia/Sydney'],
  ])('should find the zone at (%p, %p) as %p', (lat, lon, zone) => {
    expect(timezoneAt({ lat, lon })).toBe(zone);
  });

  it('should keep Berlin apart from Paris (the /now build would merge them)', () => {
    expect(timezoneAt({ lat: 52.52, lon: 13.405 })).not.toBe(timezoneAt({ lat: 48.85, lon: 2.35 }));
  });

  it.each([
    [0, 0],
    [91, 0],
    [0, 181],
    [Number.NaN, 10],
  ])('should give undefined for the unusable position (%p, %p)', (lat, lon) => {
    expect(timezoneAt({ lat, lon })).toBeUndefined();
  });

  it('should give an Etc zone on open sea', () => {
    expect(timezoneAt({ lat: 0, lon: -30 })).toBe('Etc/GMT+2');
  });
});

describe('offsetAt / wall clock conversions', () => {
  it('should follow DST in Berlin', () => {
    expect(offsetAt('Europe/Berlin', utc('2024-03-31T00:59:00'))).toBe(HOUR);
    expect(offsetAt('Europe/Berlin', utc('2024-03-31T01:01:00'))).toBe(2 * HOUR);
  });

  it('should round-trip an instant through the wall clock', () => {
    const t = utc('2024-07-01T05:00:00');
    const wall = wallClockFromInstant(t, 'America/New_York');
    expect(wall).toBe(utc('2024-07-01T01:00:00'));
    expect(instantFromWallClock(wall, 'America/New_York')).toBe(t);
  });

  it('should move a wall clock inside the DST gap forward', () => {
    expect(instantFromWallClock(utc('2024-03-31T02:30:00'), 'Europe/Berlin')).toBe(utc('2024-03-31T01:30:00'));
  });

  it('should agree with luxon everywhere, including odd zones (memoised offset tables)', () => {
    const zones = [
      'Europe/Berlin',
      'America/St_Johns',
      'Australia/Lord_Howe',
      'Africa/Casablanca',
      'Pacific/Chatham',
      'Asia/Kathmandu',
      'Asia/Tehran',
      'America/Santiago',
    ];
    const instant = fc
      .integer({ min: Date.UTC(1990, 0, 1) / 1000, max: Date.UTC(2035, 0, 1) / 1000 })
      .map((s) => s * 1000);
    fc.assert(
      fc.property(fc.constantFrom(...zones), instant, (zone, t) => {
        expect(offsetAt(zone, t)).toBe(DateTime.fromMillis(t, { zone }).offset * 60_000);
        const wall = wallClockFromInstant(t, zone);
        const viaLuxon = DateTime.fromMillis(wall, { zone: 'utc' }).setZone(zone, { keepLocalTime: true }).toMillis();
        expect(instantFromWallClock(wall, zone)).toBe(viaLuxon);
      }),
      { numRuns: 400 },
    );
  });

  it('should find offset changes to the second', () => {
    const change = utc('2024-03-31T01:00:00');
    expect(offsetAt('Europe/Berlin', change - 1000)).toBe(HOUR);
    expect(offsetAt('Europe/Berlin', change)).toBe(2 * HOUR);
  });

  it('should throw InvalidTimezoneError for an unknown zone', () => {
    expect(() => offsetAt('Mars/Olympus', 0)).toThrow(InvalidTimezoneError);
  });
});

function naiveActivity(): Activity {
  const start = utc('2024-06-01T08:00:00');
  return {
    start,
    end: start + HOUR,
    naive: true,
    type: 'running',
    laps: [{ start, end: start + HOUR, stats: {} }],
    samples: [{ time: start }, { time: start + 1000, lat: 52.5, lon: 13.4 }],
    stats: {},
  };
}

describe('defineTimezone', () => {
  it('should re-read the wall clock in the zone so the instants shift and the wall clock stays', () => {
    const sut = defineTimezone(naiveActivity(), 'Europe/Berlin');
    expect(sut.naive).toBe(false);
    expect(sut.timezone).toBe('Europe/Berlin');
    expect(sut.start).toBe(utc('2024-06-01T06:00:00'));
    expect(sut.end).toBe(utc('2024-06-01T07:00:00'));
    expect(sut.laps[0]!.start).toBe(sut.start);
    expect(sut.samples.map((s) => s.time)).toEqual([sut.start, sut.start + 1000]);
    expect(wallClockStart(sut)).toBe(utc('2024-06-01T08:00:00'));
  });

  it('should convert each time separately when the activity spans a DST change', () => {
    const start = utc('2024-10-27T01:30:00');
    const record = {
      start,
      end: start + 3 * HOUR,
      naive: true,
      samples: [{ time: start }, { time: start + 3 * HOUR }],
    };
    const sut = defineTimezone(record, 'Europe/Berlin');
    expect(sut.start).toBe(utc('2024-10-26T23:30:00'));
    // 04:30 local on 27 Oct is CET (+1), so the wall-clock 3 h span is 4 real hours.
    expect(sut.end).toBe(utc('2024-10-27T03:30:00'));
    expect(sut.samples[1]!.time).toBe(sut.end);
  });

  it('should refuse aware times', () => {
    expect(() => defineTimezone({ start: 0, naive: false }, 'Europe/Berlin')).toThrow(TimezoneStateError);
  });

  it('should refuse an invalid zone', () => {
    expect(() => defineTimezone(naiveActivity(), 'Not/AZone')).toThrow(InvalidTimezoneError);
  });
});

describe('adjustTimezone', () => {
  it('should keep the instants and change only the zone label', () => {
    const aware = { ...naiveActivity(), naive: false, timezone: 'UTC' };
    const sut = adjustTimezone(aware, 'America/New_York');
    expect(sut.start).toBe(aware.start);
    expect(sut.samples).toEqual(aware.samples);
    expect(sut.timezone).toBe('America/New_York');
    expect(wallClockStart(sut)).toBe(aware.start - 4 * HOUR);
  });

  it('should refuse naive times', () => {
    expect(() => adjustTimezone(naiveActivity(), 'Europe/Berlin')).toThrow(TimezoneStateError);
  });
});

describe('ensureTimezone', () => {
  it('should define naive and adjust aware records', () => {
    const naive = { start: utc('2024-01-01T10:00:00'), naive: true };
    const aware = { start: utc('2024-01-01T10:00:00') };
    expect(ensureTimezone(naive, 'Asia/Kolkata').start).toBe(utc('2024-01-01T04:30:00'));
    expect(ensureTimezone(aware, 'Asia/Kolkata').start).toBe(utc('2024-01-01T10:00:00'));
  });
});

describe('firstLocatedSample', () => {
  it('should skip samples without a fix or at (0,0)', () => {
    expect(firstLocatedSample([{ time: 0 }, { time: 1, lat: 0, lon: 0 }, { time: 2, lat: 1, lon: 2 }])).toEqual({
      lat: 1,
      lon: 2,
    });
    expect(firstLocatedSample([{ time: 0 }])).toBeUndefined();
  });
});

describe('mostCommonTimezone', () => {
  it('should pick the most frequent zone and break ties alphabetically', () => {
    expect(mostCommonTimezone(['B/x', 'A/y', 'B/x', undefined])).toBe('B/x');
    expect(mostCommonTimezone(['Europe/Paris', 'Europe/Berlin'])).toBe('Europe/Berlin');
    expect(mostCommonTimezone(['Europe/Berlin', 'Europe/Paris'])).toBe('Europe/Berlin');
    expect(mostCommonTimezone([])).toBeUndefined();
  });
});

describe('resolveTimezone', () => {
  const berlin = { lat: 52.52, lon: 13.405 };
  it.each([
    ['a stated zone', { stated: 'America/New_York', position: berlin }, {}, 'America/New_York', 'listing'],
    [
      'the position when the stated zone is invalid',
      { stated: 'GMT-5', position: berlin },
      {},
      'Europe/Berlin',
      'position',
    ],
    ['the user common zone', {}, { userCommon: 'Asia/Tokyo', userSetting: 'UTC' }, 'Asia/Tokyo', 'user_common'],
    [
      'the user setting',
      { position: { lat: 0, lon: 0 } },
      { userSetting: 'Europe/London' },
      'Europe/London',
      'user_setting',
    ],
  ])('should use %s', (_label, evidence, fallbacks, zone, source) => {
    expect(resolveTimezone(evidence, fallbacks)).toEqual({ zone, source });
  });

  it('should give undefined when nothing is known', () => {
    expect(resolveTimezone({}, { userSetting: 'Bogus/Zone' })).toBeUndefined();
  });
});

describe('zoneActivity', () => {
  it('should define a naive download in the zone of its first located sample', () => {
    const sut = zoneActivity(naiveActivity(), { userSetting: 'Asia/Tokyo' });
    expect(sut?.source).toBe('position');
    expect(sut?.activity.timezone).toBe('Europe/Berlin');
    expect(sut?.activity.start).toBe(utc('2024-06-01T06:00:00'));
  });

  it('should fall back to the user zone without located samples, and give undefined when nothing is known', () => {
    const noFix = { ...naiveActivity(), samples: [{ time: utc('2024-06-01T08:00:00') }] };
    expect(zoneActivity(noFix, { userCommon: 'America/New_York' })?.activity.start).toBe(utc('2024-06-01T12:00:00'));
    expect(zoneActivity(noFix)).toBeUndefined();
  });

  it('should use the file offset to pick the agreeing fallback zone, else a fixed-offset zone', () => {
    const noFix = { ...naiveActivity(), samples: [], utcOffsetHint: -240 };
    const picked = zoneActivity(noFix, { userCommon: 'Europe/Berlin', userSetting: 'America/New_York' });
    expect(picked?.source).toBe('user_setting');
    expect(picked?.activity.start).toBe(utc('2024-06-01T12:00:00'));
    const fixed = zoneActivity({ ...noFix, utcOffsetHint: 180 }, { userCommon: 'Europe/Berlin' });
    expect(fixed).toMatchObject({
      source: 'offset_hint',
      activity: { timezone: 'Etc/GMT-3', start: utc('2024-06-01T05:00:00') },
    });
    // A half-hour offset has no Etc zone: fall through to the user zones.
    expect(zoneActivity({ ...noFix, utcOffsetHint: 330 }, { userCommon: 'Europe/Berlin' })?.source).toBe('user_common');
  });

  it.each([
    [0, 'Etc/UTC'],
    [120, 'Etc/GMT-2'],
    [-300, 'Etc/GMT+5'],
    [330, undefined],
    [15 * 60, undefined],
  ])('should map offset %p min to %p', (minutes, zone) => {
    expect(fixedOffsetZone(minutes)).toBe(zone);
  });

  it('should work on listing summaries too (define and adjust are generic)', () => {
    const summary: ActivitySummary = { remoteId: 'x', type: 'running', start: utc('2024-06-01T08:00:00'), naive: true };
    const zoned = defineTimezone(summary, 'Europe/Berlin');
    expect(zoned).toEqual({ ...summary, start: utc('2024-06-01T06:00:00'), naive: false, timezone: 'Europe/Berlin' });
    expect(adjustTimezone(zoned, 'UTC').start).toBe(zoned.start);
  });
});
