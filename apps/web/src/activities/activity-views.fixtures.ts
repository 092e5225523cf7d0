import { type Activity, type Sample } from '@tributary/activity';
import { type ActivityListItem } from '@tributary/db';

/** A record with a state at two connections, as the repository returns it. */
export function listItem(over: Partial<ActivityListItem['record']> = {}): ActivityListItem {
  const start = new Date('2024-05-05T05:00:00Z');
  return {
    record: {
      id: '6f1c1f47-52c4-4b8e-9a51-9a8f3d1a2b3c',
      user_id: 'u',
      uid: 'uid',
      uids: ['uid'],
      external_ids: [],
      start_at: start,
      end_at: new Date(start.getTime() + 1_800_000),
      timezone: 'Europe/Berlin',
      type: 'running',
      name: 'Morning <run>',
      distance: 5030,
      private: false,
      stationary: null,
      summary: {},
      seen_at: start,
      created_at: start,
      updated_at: start,
      ...over,
    },
    presence: [
      {
        connectionId: 'c-strava',
        service: 'strava',
        state: 'present',
        reasonCode: 'source',
        reasonDetail: null,
        remoteId: '1',
        failureCount: 0,
        nextAttemptAt: null,
        uploadedAt: null,
        updatedAt: start,
      },
      {
        connectionId: 'c-garmin',
        service: 'garmin_connect',
        state: 'excluded',
        reasonCode: 'flow',
        reasonDetail: null,
        remoteId: null,
        failureCount: 0,
        nextAttemptAt: null,
        uploadedAt: null,
        updatedAt: start,
      },
    ],
  };
}

export const CONNECTIONS = [
  { id: 'c-strava', service: 'strava', name: 'Strava' },
  { id: 'c-garmin', service: 'garmin_connect', name: 'Garmin Connect' },
  { id: 'c-dropbox', service: 'dropbox', name: 'Dropbox' },
];

/** Ten minutes of running north with heart rate and altitude, in two laps. */
export function decodedRun(): Activity {
  const start = Date.parse('2024-05-05T05:00:00Z');
  const samples: Sample[] = Array.from({ length: 601 }, (_, i) => ({
    time: start + i * 1000,
    lat: 50 + i * 0.00003,
    lon: 8,
    distance: i * 3.3,
    altitude: 100 + Math.sin(i / 60) * 10,
    heartRate: 120 + (i % 40),
    speed: 3.3,
  }));
  return {
    start,
    end: start + 600_000,
    type: 'running',
    laps: [
      { start, end: start + 300_000, stats: { distance: 990, heartRate: { avg: 135 } } },
      { start: start + 300_000, end: start + 600_000, stats: { distance: 990, heartRate: { avg: 141 } } },
    ],
    samples,
    stats: { distance: 1980, elapsedTime: 600, speed: { avg: 3.3 }, heartRate: { avg: 138, max: 159 } },
  };
}
