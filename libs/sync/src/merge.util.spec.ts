import fc from 'fast-check';
import { type ActivityType } from '@tributary/activity';
import { activityKeys, mergeListings } from './merge.util';
import { DAY, HOUR, MIN, listed, utc } from './sync.fixtures';
import { type ListedActivity, type MergedActivity } from './sync.types';
import { wallClockFromInstant } from './timezone.util';
import { uidFromWallClock } from './uid.util';

const T0 = utc('2024-05-01T12:00:00');

function single(listings: ListedActivity[], options = {}): MergedActivity {
  const merged = mergeListings(listings, options);
  expect(merged).toHaveLength(1);
  return merged[0]!;
}

describe('mergeListings', () => {
  describe('coalescing', () => {
    it('should take the first non-empty name and notes in source-preference order', () => {
      const listings = [
        listed('strava', { start: T0, name: 'Strava name', notes: 'strava notes' }),
        listed('garmin_connect', { start: T0, name: '  ' }),
        listed('dropbox', { start: T0, name: 'Dropbox name' }),
      ];
      const sut = single(listings);
      expect(sut.name).toBe('Dropbox name');
      expect(sut.notes).toBe('strava notes');
      expect(single(listings, { sourcePriority: ['strava'] }).name).toBe('Strava name');
    });

    it.each<[ActivityType, ActivityType, ActivityType]>([
      ['running', 'trail_running', 'trail_running'],
      ['mountain_biking', 'cycling', 'mountain_biking'],
      ['other', 'swimming', 'swimming'],
      ['walking', 'hiking', 'hiking'],
    ])('should keep the most specific of %s and %s', (a, b, expected) => {
      const sut = single([listed('strava', { start: T0, type: a }), listed('garmin_connect', { start: T0, type: b })]);
      expect(sut.type).toBe(expected);
    });

    it.each<[boolean | undefined, boolean | undefined, boolean | undefined]>([
      [true, false, false],
      [true, undefined, true],
      [undefined, undefined, undefined],
      [true, true, true],
    ])('should AND stationary %p and %p into %p', (a, b, expected) => {
      const sut = single([
        listed('strava', { start: T0, stationary: a }),
        listed('garmin_connect', { start: T0, stationary: b }),
      ]);
      expect(sut.stationary).toBe(expected);
    });

    it.each<[boolean | undefined, boolean | undefined, boolean | undefined]>([
      [true, false, true],
      [false, undefined, false],
      [undefined, undefined, undefined],
    ])('should OR gps %p and %p into %p', (a, b, expected) => {
      const sut = single([listed('strava', { start: T0, gps: a }), listed('garmin_connect', { start: T0, gps: b })]);
      expect(sut.gps).toBe(expected);
    });

    it('should prefer zoned aware times over unzoned and naive ones, and adopt a zone as a label', () => {
      const zoned = listed('strava', { start: T0 + 30_000, end: T0 + HOUR, timezone: 'America/New_York' });
      const unzoned = listed('garmin_connect', { start: T0, end: T0 + HOUR });
      const naive = listed('dropbox', { start: T0 - 4 * HOUR, naive: true });
      const sut = single([naive, unzoned, zoned]);
      expect(sut.start).toBe(T0 + 30_000);
      expect(sut.timezone).toBe('America/New_York');
      expect(sut.timezoneSource).toBe('listing');
      expect(sut.naive).toBeUndefined();
      const withoutStrava = single([naive, unzoned]);
      expect(withoutStrava.start).toBe(T0);
    });

    it('should union UIDs, external ids and per-connection remote ids', () => {
      const sut = single([
        listed('strava', { remoteId: '111', start: T0, timezone: 'Europe/Berlin', externalIds: ['garmin_push_5.fit'] }),
        listed('strava', { remoteId: '112', start: T0 + 40_000, timezone: 'Europe/Berlin' }),
        listed('garmin_connect', {
          remoteId: '9',
          start: T0,
          timezone: 'Europe/Berlin',
          externalIds: ['garmin_push_5'],
        }),
      ]);
      expect(sut.externalIds).toEqual(['garmin_push_5']);
      expect(sut.presence).toEqual([
        { connectionId: 'garmin_connect', service: 'garmin_connect', remoteIds: ['9'] },
        { connectionId: 'strava', service: 'strava', remoteIds: ['111', '112'] },
      ]);
      expect(sut.uids).toHaveLength(2);
      expect(sut.uids).toContain(sut.uid);
      expect(sut.sources.map((s) => s.summary.remoteId)).toEqual(['9', '111', '112']);
    });

    it('should be incomplete while any service still records it', () => {
      const sut = single([listed('strava', { start: T0 }), listed('garmin_connect', { start: T0, complete: false })]);
      expect(sut.complete).toBe(false);
    });

    it('should count a listing repeated by overlapping pages once', () => {
      const a = listed('strava', { remoteId: 'x', start: T0 });
      const sut = single([a, { ...a }, listed('garmin_connect', { start: T0 })]);
      expect(sut.sources).toHaveLength(2);
    });
  });

  describe('timezones', () => {
    it('should find the zone from the start position of a listing', () => {
      const sut = single([listed('garmin_connect', { start: T0 }, { startPosition: { lat: 52.52, lon: 13.405 } })]);
      expect(sut.timezone).toBe('Europe/Berlin');
      expect(sut.timezoneSource).toBe('position');
      expect(sut.uid).toBe(uidFromWallClock(T0 + 2 * HOUR));
    });

    it('should fall back to the most common zone, then the user setting, then leave it unknown', () => {
      const located = [0, 1, 2].map((i) => listed('strava', { start: T0 - i * DAY, timezone: 'Europe/Berlin' }));
      const ny = listed('strava', { start: T0 - 3 * DAY, timezone: 'America/New_York' });
      const lone = listed('garmin_connect', { start: T0 - 10 * DAY });
      const naive = listed('dropbox', { start: utc('2024-04-01T07:00:00'), naive: true });
      const merged = mergeListings([...located, ny, lone, naive], { userTimezone: 'Asia/Tokyo' });
      const loneOut = merged.find((m) => m.sources[0]!.summary.remoteId === lone.summary.remoteId)!;
      expect(loneOut.timezone).toBe('Europe/Berlin');
      expect(loneOut.timezoneSource).toBe('user_common');
      expect(loneOut.start).toBe(T0 - 10 * DAY);
      expect(loneOut.uid).toBe(uidFromWallClock(wallClockFromInstant(T0 - 10 * DAY, 'Europe/Berlin')));
      const naiveOut = merged.find((m) => m.sources[0]!.summary.remoteId === naive.summary.remoteId)!;
      expect(naiveOut.start).toBe(utc('2024-04-01T05:00:00'));
      expect(naiveOut.naive).toBeUndefined();

      const settingOnly = single([lone], { userTimezone: 'Asia/Tokyo' });
      expect(settingOnly.timezone).toBe('Asia/Tokyo');
      expect(settingOnly.timezoneSource).toBe('user_setting');

      const unknown = single([lone]);
      expect(unknown.timezone).toBeUndefined();
      expect(unknown.uid).toBeUndefined();
    });
  });

  describe('tapiriik failures (§12) as regressions', () => {
    it('should not duplicate an activity whose copies disagree about the timezone (#177)', () => {
      // New York 08:00 local: Strava knows the zone, Garmin gives UTC, a file store kept the wall clock as UTC.
      const merged = mergeListings([
        listed('strava', {
          start: utc('2024-05-01T12:00:00'),
          end: utc('2024-05-01T13:00:00'),
          timezone: 'America/New_York',
        }),
        listed('garmin_connect', { start: utc('2024-05-01T12:00:03'), end: utc('2024-05-01T13:00:03') }),
        listed('dropbox', { start: utc('2024-05-01T08:00:00'), end: utc('2024-05-01T09:00:00'), naive: true }),
        listed('local_folder', { start: utc('2024-05-01T08:00:00'), end: utc('2024-05-01T09:00:00') }),
      ]);
      expect(merged).toHaveLength(1);
      expect(merged[0]!.presence).toHaveLength(4);
    });

    it('should not duplicate an activity shown "a day earlier" across midnight (#130)', () => {
      // Sydney, 2 May 06:30 local = 1 May 20:30 UTC; one service stored local time as UTC.
      const merged = mergeListings([
        listed('strava', {
          start: utc('2024-05-01T20:30:00'),
          end: utc('2024-05-01T21:30:00'),
          timezone: 'Australia/Sydney',
        }),
        listed('garmin_connect', { start: utc('2024-05-02T06:30:10'), end: utc('2024-05-02T07:30:10') }),
      ]);
      expect(merged).toHaveLength(1);
      expect(merged[0]!.timezone).toBe('Australia/Sydney');
    });

    it('should not duplicate an activity in a half-hour zone (India)', () => {
      const merged = mergeListings([
        listed('strava', {
          start: utc('2024-05-01T00:45:00'),
          end: utc('2024-05-01T01:45:00'),
          timezone: 'Asia/Kolkata',
        }),
        listed('garmin_connect', { start: utc('2024-05-01T06:15:20'), end: utc('2024-05-01T07:15:20') }),
      ]);
      expect(merged).toHaveLength(1);
    });

    it('should keep an activity private when only one copy is private (#53, #264, #430)', () => {
      for (const order of [
        [false, true],
        [true, false],
      ]) {
        const sut = single([
          listed('strava', { start: T0, private: order[0] }),
          listed('garmin_connect', { start: T0, private: order[1] }),
        ]);
        expect(sut.private).toBe(true);
      }
    });

    it.each<[ActivityType, ActivityType]>([
      ['running', 'trail_running'],
      ['cycling', 'mountain_biking'],
      ['cycling', 'virtual_ride'],
      ['walking', 'hiking'],
    ])('should not duplicate after the user changed %s to %s on one service (#215)', (before, after) => {
      const sut = single([
        listed('garmin_connect', { start: T0, type: before }),
        listed('strava', { start: T0 + 5_000, type: after, timezone: 'Europe/Berlin' }),
      ]);
      expect(sut.type).toBe(after);
    });
  });

  describe('properties', () => {
    const ZONES = ['Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Sydney'] as const;
    const spec = fc.record({
      day: fc.integer({ min: 0, max: 3 }),
      // Clustered starts make competing candidates (the case where arrival order could leak into the result).
      minute: fc.oneof(fc.integer({ min: 0, max: 1439 }), fc.constantFrom(420, 421, 422, 480, 481, 540)),
      duration: fc.integer({ min: 5, max: 300 }),
      type: fc.constantFrom<ActivityType>(
        'running',
        'trail_running',
        'cycling',
        'mountain_biking',
        'swimming',
        'other',
      ),
      zone: fc.constantFrom(...ZONES),
      copies: fc.subarray(['strava', 'garmin_connect', 'dropbox'], { minLength: 1 }),
      jitter: fc.integer({ min: 0, max: 90_000 }),
      mistakeHours: fc.constantFrom(0, 0, 1, -2, 5.5, 10),
      private: fc.boolean(),
      name: fc.option(fc.constantFrom('Morning run', 'Lunch ride', ''), { nil: undefined }),
    });
    type Spec = typeof spec extends fc.Arbitrary<infer T> ? T : never;

    function listingsOf(specs: Spec[]): ListedActivity[] {
      const out: ListedActivity[] = [];
      specs.forEach((s, i) => {
        const start = utc('2024-03-01T00:00:00') + s.day * DAY + s.minute * MIN;
        const end = start + s.duration * MIN;
        const common = { type: s.type, private: s.private, name: s.name };
        for (const service of s.copies) {
          const id = `${service}-${i}`;
          if (service === 'strava') {
            out.push(listed('strava', { remoteId: id, start, end, timezone: s.zone, ...common }));
          } else if (service === 'garmin_connect') {
            out.push(
              listed('garmin_connect', { remoteId: id, start: start + s.jitter, end: end + s.jitter, ...common }),
            );
          } else {
            const wall = wallClockFromInstant(start, s.zone) + s.mistakeHours * HOUR;
            out.push(
              listed('dropbox', { remoteId: id, start: wall, end: wall + s.duration * MIN, naive: true, ...common }),
            );
          }
        }
      });
      return out;
    }

    const canonical = (merged: MergedActivity[]): string => JSON.stringify(merged);

    it('should give the same merged set whatever order connections and their lists arrive in', () => {
      fc.assert(
        fc.property(
          fc.array(spec, { maxLength: 25 }).chain((specs) => {
            const listings = listingsOf(specs);
            return fc.tuple(
              fc.constant(listings),
              fc.shuffledSubarray(listings, { minLength: listings.length, maxLength: listings.length }),
            );
          }),
          ([listings, shuffled]) => {
            expect(canonical(mergeListings(shuffled))).toBe(canonical(mergeListings(listings)));
          },
        ),
        { numRuns: 60 },
      );
    });

    it('should be idempotent: merging again, or merging repeated listings, changes nothing', () => {
      fc.assert(
        fc.property(fc.array(spec, { maxLength: 25 }), (specs) => {
          const listings = listingsOf(specs);
          const once = mergeListings(listings);
          expect(canonical(mergeListings(once.flatMap((m) => m.sources)))).toBe(canonical(once));
          expect(canonical(mergeListings([...listings, ...listings]))).toBe(canonical(once));
        }),
        { numRuns: 40 },
      );
    });

    it('should never lose a listing nor a privacy flag', () => {
      fc.assert(
        fc.property(fc.array(spec, { maxLength: 25 }), (specs) => {
          const listings = listingsOf(specs);
          const merged = mergeListings(listings);
          expect(merged.reduce((n, m) => n + m.sources.length, 0)).toBe(listings.length);
          for (const m of merged) expect(m.private).toBe(m.sources.some((s) => s.summary.private === true));
        }),
        { numRuns: 40 },
      );
    });
  });
});

describe('activityKeys', () => {
  it('should list UIDs then external ids', () => {
    expect(activityKeys({ uids: ['u1'], externalIds: ['e1'] })).toEqual(['u1', 'e1']);
  });
});
