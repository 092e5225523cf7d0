import { type ServiceId } from './sync.types';

/**
 * Which service to download an activity from when several have it, best first: tapiriik's list, with Garmin Connect
 * first (original device files), file stores next (originals, untouched), and Strava last (no laps, no originals).
 * Plain data so deployments and tests can pass their own.
 */
export const DEFAULT_SOURCE_PRIORITY: readonly ServiceId[] = [
  'garmin_connect',
  'dropbox',
  'local_folder',
  'trainerroad',
  'smashrun',
  'sporttracks',
  'trainingpeaks',
  'rwgps',
  'trainasone',
  'velohero',
  'intervals_icu',
  'fittrackee',
  'endomondo',
  'runkeeper',
  'beginnertriathlete',
  'motivato',
  'nikeplus',
  'strava',
];

/** Position of a service in a priority list; services not listed rank after every listed one. */
export function sourceRank(service: ServiceId, priority: readonly ServiceId[] = DEFAULT_SOURCE_PRIORITY): number {
  const i = priority.indexOf(service);
  return i === -1 ? priority.length : i;
}
