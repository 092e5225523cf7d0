import { InvalidTimestampError } from './sync.error';
import { parseStravaStart, parseStravaTimezone, stravaLocalToNaive } from './strava-time.util';

describe('parseStravaTimezone', () => {
  it.each([
    ['(GMT-05:00) America/New_York', 'America/New_York'],
    ['(GMT+01:00) Europe/Berlin', 'Europe/Berlin'],
    ['(GMT+05:30) Asia/Kolkata', 'Asia/Kolkata'],
    ['(GMT+00:00) Etc/UTC', 'Etc/UTC'],
    ['(GMT-03:00) America/Argentina/Buenos_Aires', 'America/Argentina/Buenos_Aires'],
    ['America/Denver', 'America/Denver'],
  ])('should read %p as %p', (value, zone) => {
    expect(parseStravaTimezone(value)).toBe(zone);
  });

  it.each([[null], [undefined], [''], ['(GMT-05:00)'], ['(GMT-05:00) Nowhere/Special'], ['GMT-5']])(
    'should give undefined for %p',
    (value) => {
      expect(parseStravaTimezone(value)).toBeUndefined();
    },
  );
});

describe('stravaLocalToNaive', () => {
  it.each([
    ['2024-05-01T08:00:05Z', Date.UTC(2024, 4, 1, 8, 0, 5)],
    ['2024-05-01T08:00:05', Date.UTC(2024, 4, 1, 8, 0, 5)],
    ['2024-05-01T08:00:05.250Z', Date.UTC(2024, 4, 1, 8, 0, 5, 250)],
    ['2024-05-01 08:00:05', Date.UTC(2024, 4, 1, 8, 0, 5)],
    ['2024-02-29T23:59:59Z', Date.UTC(2024, 1, 29, 23, 59, 59)],
  ])('should keep the wall clock of %p whatever its Z says', (value, expected) => {
    expect(stravaLocalToNaive(value)).toBe(expected);
  });

  it.each([['2024-02-31T08:00:00Z'], ['2024-05-01T25:00:00Z'], ['yesterday'], ['2024-05-01T08:00:05+02:00']])(
    'should throw InvalidTimestampError for %p',
    (value) => {
      expect(() => stravaLocalToNaive(value)).toThrow(InvalidTimestampError);
    },
  );
});

describe('parseStravaStart', () => {
  const shape = {
    start_date: '2024-05-01T12:00:05Z',
    start_date_local: '2024-05-01T08:00:05Z',
    timezone: '(GMT-05:00) America/New_York',
    utc_offset: -14400.0,
  };

  it('should use the UTC start with the parsed zone', () => {
    expect(parseStravaStart(shape)).toEqual({
      start: Date.UTC(2024, 4, 1, 12, 0, 5),
      timezone: 'America/New_York',
      naive: false,
    });
  });

  it('should derive the instant from start_date_local and utc_offset when start_date is missing', () => {
    expect(parseStravaStart({ ...shape, start_date: null })).toEqual({
      start: Date.UTC(2024, 4, 1, 12, 0, 5),
      timezone: 'America/New_York',
      naive: false,
    });
  });

  it('should give a naive start when only the local time is known', () => {
    expect(parseStravaStart({ start_date_local: shape.start_date_local })).toEqual({
      start: Date.UTC(2024, 4, 1, 8, 0, 5),
      naive: true,
    });
  });

  it('should keep an unzoned instant when the timezone string is unusable', () => {
    expect(parseStravaStart({ ...shape, timezone: 'garbage' })).toEqual({
      start: Date.UTC(2024, 4, 1, 12, 0, 5),
      naive: false,
    });
  });

  it('should refuse a start_date without a zone marker, and a listing with no start', () => {
    expect(() => parseStravaStart({ start_date: '2024-05-01T12:00:05' })).toThrow(InvalidTimestampError);
    expect(() => parseStravaStart({})).toThrow(InvalidTimestampError);
  });
});
