import { type ActivityType } from '@tributary/activity';
import { MatchTier, groupListings, matchListings, normalizeListing } from './dedup.util';
import { HOUR, MIN, listed, utc } from './sync.fixtures';
import { type ListedActivity } from './sync.types';

const T0 = utc('2024-05-01T08:00:00');

function match(a: ListedActivity, b: ListedActivity): MatchTier | undefined {
  const ab = matchListings(normalizeListing(a), normalizeListing(b));
  const ba = matchListings(normalizeListing(b), normalizeListing(a));
  expect(ba?.tier).toBe(ab?.tier);
  return ab?.tier;
}

describe('matchListings', () => {
  describe('start rules', () => {
    it.each<[string, number, MatchTier | undefined]>([
      ['identical starts (no zone, so no UID)', 0, MatchTier.CloseStart],
      ['2 min 59 s apart', 3 * MIN - 1000, MatchTier.CloseStart],
      ['exactly 3 min apart', 3 * MIN, undefined],
      ['10 min apart', 10 * MIN, undefined],
      ['1 h apart (TZ mistake)', HOUR, MatchTier.WholeHourOffset],
      ['1 h 0 min 59 s apart', HOUR + 59_000, MatchTier.WholeHourOffset],
      ['59 min 1 s apart (just under 1 h)', HOUR - 59_000, MatchTier.WholeHourOffset],
      ['1 h 1 min apart', HOUR + MIN, undefined],
      ['5 h 30 min apart (half-hour zone)', 5.5 * HOUR, MatchTier.HalfHourOffset],
      ['3 h 30 min 30 s apart', 3.5 * HOUR + 30_000, MatchTier.HalfHourOffset],
      ['3 h 31 min apart', 3.5 * HOUR + MIN, undefined],
      ['-9 h 30 min apart', -9.5 * HOUR, MatchTier.HalfHourOffset],
      ['37 h apart', 37 * HOUR, MatchTier.WholeHourOffset],
      ['38 h apart', 38 * HOUR, undefined],
    ])('should decide %s between two services', (_label, delta, tier) => {
      const a = listed('strava', { start: T0, end: T0 + HOUR });
      const b = listed('garmin_connect', { start: T0 + delta, end: T0 + delta + HOUR });
      expect(match(a, b)).toBe(tier);
    });

    it('should match on the UID when the local wall clocks agree to the second', () => {
      const zoned = listed('strava', { start: utc('2024-05-01T12:00:00'), timezone: 'America/New_York' });
      const naive = listed('trainingpeaks', { start: utc('2024-05-01T08:00:00'), naive: true });
      expect(match(zoned, naive)).toBe(MatchTier.SharedUid);
    });

    it('should compare wall clocks when exactly one side is naive', () => {
      const zoned = listed('strava', { start: utc('2024-05-01T12:00:00'), timezone: 'America/New_York' });
      const naive = listed('trainingpeaks', { start: utc('2024-05-01T08:01:00'), naive: true });
      expect(match(zoned, naive)).toBe(MatchTier.CloseStart);
    });

    it('should compare instants when both sides are aware, whatever their zone labels', () => {
      const ny = listed('strava', { start: utc('2024-05-01T12:00:00'), timezone: 'America/New_York' });
      const utcOnly = listed('garmin_connect', { start: utc('2024-05-01T12:02:00') });
      expect(match(ny, utcOnly)).toBe(MatchTier.CloseStart);
    });

    it('should match a TZ mistake across midnight ("a day earlier", tapiriik #130)', () => {
      // Sydney 07:00 on 2 May is 21:00 UTC on 1 May; a service that stored the wall clock as UTC shows 2 May 07:00.
      const right = listed('strava', { start: utc('2024-05-01T21:00:00'), end: utc('2024-05-01T22:00:00') });
      const wrong = listed('dropbox', { start: utc('2024-05-02T07:00:00'), end: utc('2024-05-02T08:00:00') });
      expect(match(right, wrong)).toBe(MatchTier.WholeHourOffset);
    });

    it('should match an inverted offset (BeginnerTriathlete, tapiriik #241)', () => {
      const right = listed('strava', { start: utc('2024-05-01T13:00:00'), end: utc('2024-05-01T14:00:00') });
      const inverted = listed('beginnertriathlete', {
        start: utc('2024-05-01T03:00:00'),
        end: utc('2024-05-01T04:00:00'),
      });
      expect(match(right, inverted)).toBe(MatchTier.WholeHourOffset);
    });

    it('should not treat the same time on the next day as a TZ mistake when the durations differ', () => {
      const monday = listed('strava', { start: T0, end: T0 + 45 * MIN, distance: 8000 });
      const tuesday = listed('garmin_connect', {
        start: T0 + 24 * HOUR,
        end: T0 + 24 * HOUR + 62 * MIN,
        distance: 11000,
      });
      expect(match(monday, tuesday)).toBeUndefined();
    });

    it('should keep two consecutive entries of one service apart, but merge an overlapping re-upload', () => {
      const part1 = listed('strava', { start: T0, end: T0 + 90_000 });
      const part2 = listed('strava', { start: T0 + 2 * MIN, end: T0 + HOUR });
      const reupload = listed('strava', { start: T0 + 30_000, end: T0 + HOUR });
      expect(match(part1, part2)).toBeUndefined();
      expect(match(part2, reupload)).toBe(MatchTier.CloseStart);
    });

    it('should not look for TZ mistakes inside one connection', () => {
      const a = listed('strava', { start: T0, end: T0 + HOUR });
      const b = listed('strava', { start: T0 + 2 * HOUR, end: T0 + 3 * HOUR });
      expect(match(a, b)).toBeUndefined();
    });
  });

  describe('types', () => {
    it.each<[ActivityType, ActivityType, boolean]>([
      ['running', 'trail_running', true],
      ['running', 'hiking', true],
      ['cycling', 'mountain_biking', true],
      ['cycling', 'virtual_ride', true],
      ['other', 'swimming', true],
      ['running', 'cycling', false],
      ['swimming', 'rowing', false],
    ])('should treat %s and %s as compatible=%s', (ta, tb, compatible) => {
      const a = listed('strava', { start: T0, type: ta });
      const b = listed('garmin_connect', { start: T0 + MIN, type: tb });
      expect(match(a, b) !== undefined).toBe(compatible);
    });

    it('should match a shared external id even when the types disagree and the clocks are far apart', () => {
      const a = listed('strava', { start: T0, type: 'cycling', externalIds: ['garmin_push_99887766.fit'] });
      const b = listed('garmin_connect', {
        start: T0 + 7 * HOUR + 13 * MIN,
        type: 'running',
        externalIds: ['garmin_push_99887766'],
      });
      expect(match(a, b)).toBe(MatchTier.SharedExternalId);
    });
  });
});

describe('normalizeListing', () => {
  it('should define a naive listing that names its zone, and label an aware one located by position', () => {
    const naive = normalizeListing(listed('trainingpeaks', { start: T0, naive: true, timezone: 'Europe/Berlin' }));
    expect(naive).toMatchObject({ start: T0 - 2 * HOUR, naive: false, wallClock: T0, timezoneSource: 'listing' });
    const located = normalizeListing(
      listed('garmin_connect', { start: T0 }, { startPosition: { lat: 40.71, lon: -74 } }),
    );
    expect(located).toMatchObject({ start: T0, timezone: 'America/New_York', timezoneSource: 'position' });
    expect(located.wallClock).toBe(T0 - 4 * HOUR);
  });

  it('should leave an unzoned instant without wall clock or UID', () => {
    const sut = normalizeListing(listed('garmin_connect', { start: T0, externalIds: ['garmin_push_123.fit', 'x'] }));
    expect(sut.wallClock).toBeUndefined();
    expect(sut.uid).toBeUndefined();
    expect(sut.externalIds).toEqual(['garmin_push_123']);
  });
});

describe('groupListings', () => {
  const group = (listings: ListedActivity[]): string[][] =>
    groupListings(listings.map((l) => normalizeListing(l)))
      .map((g) => g.map((n) => n.listing.summary.remoteId).sort())
      .sort((x, y) => (x[0]! < y[0]! ? -1 : 1));

  it('should merge three copies of one activity and keep a neighbour apart', () => {
    const s = listed('strava', { remoteId: 's1', start: T0, timezone: 'Europe/Berlin' });
    const g = listed('garmin_connect', { remoteId: 'g1', start: T0 + 20_000 });
    const d = listed('dropbox', { remoteId: 'd1', start: T0 + 2 * HOUR, naive: true });
    const other = listed('strava', { remoteId: 's2', start: T0 + 4 * HOUR, timezone: 'Europe/Berlin' });
    expect(group([s, g, d, other])).toEqual([['d1', 'g1', 's1'], ['s2']]);
  });

  it('should not let a TZ-mistake edge chain yesterday into today when both already have the connection', () => {
    const day1s = listed('strava', { remoteId: 'a-s', start: T0 });
    const day1g = listed('garmin_connect', { remoteId: 'a-g', start: T0 + 10_000 });
    const day2s = listed('strava', { remoteId: 'b-s', start: T0 + 24 * HOUR + 20_000 });
    const day2g = listed('garmin_connect', { remoteId: 'b-g', start: T0 + 24 * HOUR });
    expect(group([day1s, day1g, day2s, day2g])).toEqual([
      ['a-g', 'a-s'],
      ['b-g', 'b-s'],
    ]);
  });

  it('should prefer the closer candidate over a TZ-mistake one', () => {
    const s = listed('strava', { remoteId: 's', start: T0, end: T0 + HOUR });
    const near = listed('garmin_connect', { remoteId: 'near', start: T0 + MIN, end: T0 + HOUR + MIN });
    const hourOff = listed('garmin_connect', { remoteId: 'hour', start: T0 + HOUR, end: T0 + 2 * HOUR });
    expect(group([hourOff, s, near])).toEqual([['hour'], ['near', 's']]);
  });

  it('should not merge groups whose types are incompatible through a weak edge', () => {
    const run = listed('strava', { remoteId: 'run', start: T0, type: 'running' });
    const other = listed('garmin_connect', { remoteId: 'oth', start: T0 + 30_000, type: 'other' });
    const ride = listed('dropbox', { remoteId: 'ride', start: T0 + 2 * MIN, type: 'cycling' });
    // `other` matches both, but run and ride cannot end up in one activity.
    expect(group([run, other, ride])).toEqual([['oth', 'run'], ['ride']]);
  });
});
