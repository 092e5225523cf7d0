import { type ActivitySummary } from '@tributary/activity';
import { mergeListings } from './merge.util';
import {
  type DestinationDecision,
  keysToRecordAfterUpload,
  nextSource,
  planSync,
  primaryActivityKey,
} from './plan.util';
import { type FailureRecord } from './retry.util';
import { type ExclusionRecord } from './sync-error.model';
import { DAY, HOUR, MIN, connection, listed, utc } from './sync.fixtures';
import { type ConnectionState, type ListedActivity, type MergedActivity, type UserSyncSettings } from './sync.types';

const NOW = utc('2024-06-01T12:00:00');
const START = NOW - 2 * DAY;
const SETTINGS: UserSyncSettings = { uploadDelayMs: 0 };

function activityOn(summary: Partial<ActivitySummary> = {}, holders = ['garmin_connect']): MergedActivity[] {
  const listings: ListedActivity[] = holders.map((h) =>
    listed(h, { start: START, end: START + HOUR, timezone: 'Europe/Berlin', gps: true, ...summary }),
  );
  return mergeListings(listings);
}

function decisionFor(
  activities: MergedActivity[],
  connections: ConnectionState[],
  target: string,
  extra: { settings?: Partial<UserSyncSettings>; exclusions?: ExclusionRecord[]; failures?: FailureRecord[] } = {},
): DestinationDecision {
  const plan = planSync({
    activities,
    connections,
    settings: { ...SETTINGS, ...extra.settings },
    now: NOW,
    exclusions: extra.exclusions,
    failures: extra.failures,
  });
  return plan.activities[0]!.destinations.find((d) => d.connectionId === target)!;
}

const garmin = connection('garmin_connect');

describe('planSync', () => {
  describe('reasons per activity × connection', () => {
    it.each<[string, ConnectionState, Partial<ActivitySummary>, Partial<UserSyncSettings>, string, string]>([
      ['upload when missing', connection('strava'), {}, {}, 'upload', 'missing'],
      [
        'not a destination',
        connection('strava', { capabilities: { receives: false } }),
        {},
        {},
        'skipped',
        'not_a_destination',
      ],
      [
        'type unsupported',
        connection('smashrun', { capabilities: { acceptedTypes: new Set(['running']) } }),
        { type: 'cycling' },
        {},
        'skipped',
        'type_unsupported',
      ],
      [
        'service excluded this sync',
        connection('strava', { excluded: { reason: 'listing_failed' } }),
        {},
        {},
        'skipped',
        'service_excluded',
      ],
      [
        'config missing',
        connection('dropbox', { capabilities: { requiresConfiguration: true } }),
        {},
        {},
        'skipped',
        'config_missing',
      ],
      [
        'stationary not accepted',
        connection('dropbox', { capabilities: { acceptsStationary: false } }),
        { stationary: true, gps: false },
        {},
        'skipped',
        'stationary',
      ],
      [
        'non-GPS not accepted',
        connection('trainingpeaks', { capabilities: { acceptsNonGps: false } }),
        { stationary: false, gps: false },
        {},
        'skipped',
        'nongps',
      ],
      ['still recording', connection('strava'), { complete: false }, {}, 'skipped', 'live'],
      [
        'before the skip-before window',
        connection('strava'),
        {},
        { skipBefore: START + MIN },
        'skipped',
        'predates_window',
      ],
      ['private without opt-in', connection('strava'), { private: true }, {}, 'skipped', 'private'],
      ['upload delay not over', connection('strava'), {}, { uploadDelayMs: 3 * DAY }, 'deferred', 'upload_delay'],
    ])('should decide %s', (_label, dest, summary, settings, kind, reason) => {
      const d = decisionFor(activityOn(summary), [garmin, dest], dest.id, { settings });
      expect({ kind: d.kind, reason: d.reason }).toEqual({ kind, reason });
    });

    it('should upload a configured connection and fall back to the nearest accepted type', () => {
      const dropbox = connection('dropbox', {
        capabilities: { requiresConfiguration: true, acceptedTypes: new Set(['running', 'cycling']) },
        settings: { configured: true },
      });
      const d = decisionFor(activityOn({ type: 'trail_running' }), [garmin, dropbox], 'dropbox');
      expect(d).toEqual({
        connectionId: 'dropbox',
        service: 'dropbox',
        kind: 'upload',
        reason: 'missing',
        uploadType: 'running',
      });
    });

    it('should report the source as present', () => {
      expect(decisionFor(activityOn(), [garmin, connection('strava')], 'garmin_connect')).toMatchObject({
        kind: 'present',
        reason: 'source',
      });
    });

    it('should accept a stationary activity where allowed and a non-GPS one where allowed', () => {
      expect(
        decisionFor(activityOn({ stationary: true, gps: false }), [garmin, connection('strava')], 'strava').kind,
      ).toBe('upload');
      expect(decisionFor(activityOn({ gps: false }), [garmin, connection('strava')], 'strava').kind).toBe('upload');
    });

    it('should give the time when a deferred upload becomes possible and wake the sync then', () => {
      const plan = planSync({
        activities: activityOn(),
        connections: [garmin, connection('strava')],
        settings: { uploadDelayMs: 3 * DAY },
        now: NOW,
      });
      const d = plan.activities[0]!.destinations.find((x) => x.connectionId === 'strava')!;
      expect(d).toMatchObject({ kind: 'deferred', until: START + HOUR + 3 * DAY });
      expect(plan.nextWakeAt).toBe(START + HOUR + 3 * DAY);
    });

    it('should report an unknown timezone as a non-permanent skip', () => {
      const merged = mergeListings([listed('garmin_connect', { start: START, end: START + HOUR })]);
      expect(merged[0]!.timezone).toBeUndefined();
      expect(decisionFor(merged, [garmin, connection('strava')], 'strava')).toMatchObject({
        kind: 'skipped',
        reason: 'tz_unknown',
      });
    });
  });

  describe('private opt-in', () => {
    it('should copy a private activity only when a connection holding it has syncPrivate, and keep it private', () => {
      const activities = activityOn({ private: true }, ['garmin_connect', 'dropbox']);
      const dropboxOptIn = connection('dropbox', { settings: { syncPrivate: true } });
      const d = decisionFor(activities, [garmin, dropboxOptIn, connection('strava')], 'strava');
      expect(d.kind).toBe('upload');
      expect(activities[0]!.private).toBe(true);
    });
  });

  describe('flow exceptions', () => {
    const twoHolders = (): MergedActivity[] => activityOn({}, ['garmin_connect', 'dropbox']);

    it('should block only when every source is blocked towards the destination', () => {
      const strava = connection('strava', { settings: { receiveFromBlocked: ['garmin_connect'] } });
      expect(decisionFor(twoHolders(), [garmin, connection('dropbox'), strava], 'strava').kind).toBe('upload');
      const dropboxBlocks = connection('dropbox', { settings: { sendToBlocked: ['strava'] } });
      expect(decisionFor(twoHolders(), [garmin, dropboxBlocks, strava], 'strava')).toMatchObject({
        kind: 'skipped',
        reason: 'flow',
      });
    });
  });

  describe('exclusions and retries', () => {
    it('should skip a destination with an exclusion record for any of the activity keys', () => {
      const activities = activityOn();
      const exclusion: ExclusionRecord = {
        connectionId: 'strava',
        activityKey: activities[0]!.uids[0]!,
        reason: 'corrupt',
        permanent: true,
        at: NOW - DAY,
      };
      expect(
        decisionFor(activities, [garmin, connection('strava')], 'strava', { exclusions: [exclusion] }),
      ).toMatchObject({
        kind: 'skipped',
        reason: 'excluded',
        detail: 'corrupt',
      });
    });

    it('should stop at the retry limit and wait out a backoff', () => {
      const activities = activityOn();
      const key = primaryActivityKey(activities[0]!);
      const failure = (count: number, nextAttemptAt: number): FailureRecord => ({
        activityKey: key,
        connectionId: 'strava',
        direction: 'upload',
        count,
        lastAttemptAt: NOW - HOUR,
        nextAttemptAt,
      });
      const conns = [garmin, connection('strava')];
      expect(decisionFor(activities, conns, 'strava', { failures: [failure(5, NOW - 1)] }).reason).toBe('retry_limit');
      expect(decisionFor(activities, conns, 'strava', { failures: [failure(2, NOW + HOUR)] })).toMatchObject({
        kind: 'deferred',
        reason: 'retry_backoff',
        until: NOW + HOUR,
      });
      expect(decisionFor(activities, conns, 'strava', { failures: [failure(2, NOW - 1)] }).kind).toBe('upload');
    });
  });

  describe('sources', () => {
    it('should rank sources by service preference and skip excluded, non-supplying and failed ones', () => {
      const activities = activityOn({}, ['strava', 'dropbox', 'garmin_connect', 'runkeeper']);
      const key = primaryActivityKey(activities[0]!);
      const plan = planSync({
        activities,
        connections: [
          connection('strava'),
          connection('dropbox'),
          connection('garmin_connect', { excluded: { reason: 'blocking_error' } }),
          connection('runkeeper', { capabilities: { supplies: false } }),
          connection('fittrackee'),
        ],
        settings: SETTINGS,
        now: NOW,
        failures: [
          {
            activityKey: key,
            connectionId: 'dropbox',
            direction: 'download',
            count: 1,
            lastAttemptAt: NOW,
            nextAttemptAt: NOW - 1,
          },
        ],
      });
      expect(plan.activities[0]!.sources).toEqual(['dropbox', 'strava']);
      const withCustomOrder = planSync({
        activities,
        connections: [connection('strava'), connection('dropbox'), connection('fittrackee')],
        settings: SETTINGS,
        now: NOW,
        sourcePriority: ['strava', 'dropbox'],
      });
      expect(withCustomOrder.activities[0]!.sources[0]).toBe('strava');
    });

    it('should defer when the only source waits out a download backoff, and skip when it is exhausted', () => {
      const activities = activityOn();
      const key = primaryActivityKey(activities[0]!);
      const download = (count: number): FailureRecord => ({
        activityKey: key,
        connectionId: 'garmin_connect',
        direction: 'download',
        count,
        lastAttemptAt: NOW,
        nextAttemptAt: NOW + HOUR,
      });
      const conns = [garmin, connection('strava')];
      expect(decisionFor(activities, conns, 'strava', { failures: [download(1)] })).toMatchObject({
        kind: 'deferred',
        until: NOW + HOUR,
      });
      // Garmin Connect downloads get 6 attempts, so 5 failures still only wait.
      expect(decisionFor(activities, conns, 'strava', { failures: [download(5)] }).kind).toBe('deferred');
      expect(decisionFor(activities, conns, 'strava', { failures: [download(6)] })).toMatchObject({
        reason: 'no_source',
      });
    });
  });

  describe('synchronized UIDs (§2.5)', () => {
    it('should treat a connection that has seen any key of the activity as present (reconnect duplicates, #525)', () => {
      // Strava was reconnected: its first listing page no longer shows the old activity, but its seen set does.
      const activities = activityOn();
      const oldUid = activities[0]!.uids[0]!;
      const strava = connection('strava', { synchronizedUids: [oldUid] });
      expect(decisionFor(activities, [garmin, strava], 'strava')).toMatchObject({
        kind: 'present',
        reason: 'already_synchronized',
      });
      const byExternalId = mergeListings([
        listed('garmin_connect', { start: START, timezone: 'Europe/Berlin', externalIds: ['garmin_push_42'] }),
      ]);
      expect(
        decisionFor(byExternalId, [garmin, connection('strava', { synchronizedUids: ['garmin_push_42'] })], 'strava')
          .kind,
      ).toBe('present');
    });

    it('should record every key of a listed activity for each connection that listed it', () => {
      const activities = activityOn({ externalIds: ['garmin_push_7'] }, ['garmin_connect', 'strava']);
      const keys = [...activities[0]!.uids, 'garmin_push_7'];
      const plan = planSync({
        activities,
        connections: [garmin, connection('strava', { synchronizedUids: [keys[0]!] }), connection('dropbox')],
        settings: SETTINGS,
        now: NOW,
      });
      expect(plan.newlySeen.get('garmin_connect')).toEqual(keys);
      expect(plan.newlySeen.get('strava')).toEqual(keys.slice(1));
      expect(plan.newlySeen.has('dropbox')).toBe(false);
      expect(keysToRecordAfterUpload(activities[0]!, connection('dropbox'))).toEqual(keys);
    });
  });
});

describe('nextSource', () => {
  it.each<[string[], string[], string | undefined]>([
    [['garmin', 'dropbox', 'strava'], [], 'garmin'],
    [['garmin', 'dropbox', 'strava'], ['garmin'], 'dropbox'],
    [['garmin', 'dropbox', 'strava'], ['dropbox', 'garmin'], 'strava'],
    [['garmin'], ['garmin'], undefined],
  ])('should pick from %p after %p failed: %p', (ranked, failed, expected) => {
    expect(nextSource(ranked, failed)).toBe(expected);
  });
});
