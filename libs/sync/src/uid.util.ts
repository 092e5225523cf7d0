import { createHash } from 'node:crypto';
import { type TimedRecord, wallClockStart } from './timezone.util';

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** 'YYYY-MM-DD HH:mm:ss' of a wall clock held as epoch ms read as UTC (sub-second part dropped). */
export function formatWallClock(wallClock: number): string {
  const d = new Date(Math.floor(wallClock / 1000) * 1000);
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
  );
}

/**
 * tapiriik's UID: MD5 of the local wall-clock start formatted 'YYYY-MM-DD HH:mm:ss'. Kept byte-identical so UIDs
 * imported from a tapiriik database still match.
 */
export function uidFromWallClock(wallClock: number): string {
  return createHash('md5').update(formatWallClock(wallClock), 'utf8').digest('hex');
}

/** The UID of a record, or undefined while its wall clock is unknown (aware without a zone). */
export function calculateUid(record: Pick<TimedRecord, 'start' | 'timezone' | 'naive'>): string | undefined {
  const wall = wallClockStart(record);
  return wall === undefined ? undefined : uidFromWallClock(wall);
}

const FILE_EXTENSION = /\.(fit|tcx|gpx|pwx|json|xml)(\.(gz|zip))?$/i;

/**
 * One spelling per external id: services echo ids back with a path or a file extension appended (Strava turns
 * `garmin_push_1` into `garmin_push_1.fit`), and file names differ in case between file systems. Returns undefined
 * for ids too short or generic to identify one activity.
 */
export function normalizeExternalId(raw: string): string | undefined {
  let id = raw.trim();
  const slash = Math.max(id.lastIndexOf('/'), id.lastIndexOf('\\'));
  if (slash >= 0) id = id.slice(slash + 1);
  id = id.replace(FILE_EXTENSION, '').toLowerCase();
  // Short ids ("1", "run", "activity") occur across unrelated activities and would glue them together.
  if (id.length < 6 || /^(activity|workout|untitled|export)[-_ ]?\d{0,2}$/.test(id)) return undefined;
  return id;
}
