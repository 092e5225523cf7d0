import { find } from 'geo-tz';
import { DateTime, IANAZone } from 'luxon';
import { type Activity, type Lap, type Sample } from '@tributary/activity';
import { InvalidTimezoneError, TimezoneStateError } from './sync.error';
import { type GeoPoint, type TimezoneSource } from './sync.types';

/*
 * Time semantics (shared by Activity and ActivitySummary):
 * - aware (naive false/absent): numbers are UTC instants; `timezone`, when set, only says where it happened.
 * - naive: numbers are the local wall clock read as if it were UTC; the instant is unknown until a zone is defined.
 * define (naive → zoned): re-read the wall clock in the zone, so the numbers change and the wall clock stays.
 * adjust (aware → other zone): the instant stays, only the zone label (and so the wall clock) changes.
 */

const HOUR_MS = 3_600_000;

/** The fields every timed record shares; laps and samples exist on a full Activity only. */
export interface TimedRecord {
  start: number;
  end?: number;
  timezone?: string;
  naive?: boolean;
  laps?: Lap[];
  samples?: Sample[];
}

const zoneValidity = new Map<string, boolean>();

/** Memoised: luxon builds an Intl formatter per check, which dominated dedup time. */
export function isValidTimezone(zone: string): boolean {
  let valid = zoneValidity.get(zone);
  if (valid === undefined) {
    valid = zone.length > 0 && IANAZone.isValidZone(zone);
    // Bound the memo so a stream of junk zone strings from a provider cannot grow it without limit.
    if (zoneValidity.size < 10_000) zoneValidity.set(zone, valid);
  }
  return valid;
}

export function assertTimezone(zone: string): void {
  if (!isValidTimezone(zone)) throw new InvalidTimezoneError(zone);
}

function luxonOffset(zone: string, instant: number): number {
  const dt = DateTime.fromMillis(instant, { zone });
  if (!dt.isValid) throw new InvalidTimezoneError(zone);
  return dt.offset * 60_000;
}

/** Offsets in force from each start instant on, for one zone and one UTC year. */
interface YearOffsets {
  starts: number[];
  offsets: number[];
}

const WEEK_MS = 7 * 24 * HOUR_MS;
const offsetTables = new Map<string, Map<number, YearOffsets>>();

/**
 * Builds a year's offset table: weekly samples, then a binary search to the second wherever two samples differ.
 * Zones change offset at most a few times a year and never twice within a week, so this finds every change.
 */
function buildYearOffsets(zone: string, year: number): YearOffsets {
  const from = Date.UTC(year, 0, 1);
  const to = Date.UTC(year + 1, 0, 1);
  const table: YearOffsets = { starts: [from], offsets: [luxonOffset(zone, from)] };
  let prevT = from;
  let prevOffset = table.offsets[0]!;
  for (let t = Math.min(from + WEEK_MS, to); ; t = Math.min(t + WEEK_MS, to)) {
    const offset = luxonOffset(zone, t);
    if (offset !== prevOffset) {
      let lo = prevT;
      let hi = t;
      while (hi - lo > 1000) {
        const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
        if (luxonOffset(zone, mid) === prevOffset) lo = mid;
        else hi = mid;
      }
      table.starts.push(hi);
      table.offsets.push(luxonOffset(zone, hi));
    }
    prevT = t;
    prevOffset = offset;
    if (t >= to) break;
  }
  return table;
}

/** The zone's UTC offset at an instant, in ms (DST-aware). Memoised per zone and year: luxon takes ~70 µs a call. */
export function offsetAt(zone: string, instant: number): number {
  if (!Number.isFinite(instant)) return luxonOffset(zone, instant);
  let byYear = offsetTables.get(zone);
  if (byYear === undefined) {
    if (!isValidTimezone(zone)) throw new InvalidTimezoneError(zone);
    offsetTables.set(zone, (byYear = new Map<number, YearOffsets>()));
  }
  const year = new Date(instant).getUTCFullYear();
  let table = byYear.get(year);
  if (table === undefined) byYear.set(year, (table = buildYearOffsets(zone, year)));
  const { starts, offsets } = table;
  let i = starts.length - 1;
  while (i > 0 && starts[i]! > instant) i--;
  return offsets[i]!;
}

/** The local wall clock (read as UTC) of an instant in a zone. */
export function wallClockFromInstant(instant: number, zone: string): number {
  return instant + offsetAt(zone, instant);
}

/**
 * The instant at which a zone's clocks show the given wall clock. A wall clock inside a DST gap moves forward (as
 * the device clock would have), one in a DST overlap takes the earlier instant.
 */
export function instantFromWallClock(wallClock: number, zone: string): number {
  const before = offsetAt(zone, wallClock - 15 * HOUR_MS);
  // No offset change within ±15 h (the widest UTC offsets): one subtraction is exact.
  if (before === offsetAt(zone, wallClock + 15 * HOUR_MS)) return wallClock - before;
  const dt = DateTime.fromMillis(wallClock, { zone: 'utc' }).setZone(zone, { keepLocalTime: true });
  if (!dt.isValid) throw new InvalidTimezoneError(zone);
  return dt.toMillis();
}

/**
 * The zone at a position, from the timezone-boundary-builder data in geo-tz (the default build keeps pre-1970
 * distinct zones apart; `/now` would merge e.g. Berlin into Paris). Open sea gives an `Etc/GMT±n` zone.
 */
export function timezoneAt(point: GeoPoint): string | undefined {
  const { lat, lon } = point;
  if (!Number.isFinite(lat) || !Number.isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) return undefined;
  // (0,0) is what broken devices write for "no fix", not a real start in the Gulf of Guinea.
  if (lat === 0 && lon === 0) return undefined;
  return find(lat, lon).find(isValidTimezone);
}

/** The first sample that carries a position, as tapiriik's CalculateTZ used. */
export function firstLocatedSample(samples: readonly Sample[]): GeoPoint | undefined {
  for (const s of samples) {
    if (s.lat !== undefined && s.lon !== undefined && !(s.lat === 0 && s.lon === 0)) return { lat: s.lat, lon: s.lon };
  }
  return undefined;
}

/** The most frequent zone (ties: alphabetical, so the answer never depends on input order). */
export function mostCommonTimezone(zones: Iterable<string | undefined>): string | undefined {
  const counts = new Map<string, number>();
  for (const z of zones) if (z !== undefined) counts.set(z, (counts.get(z) ?? 0) + 1);
  let best: string | undefined;
  let bestCount = 0;
  for (const [zone, count] of counts) {
    if (count > bestCount || (count === bestCount && best !== undefined && zone < best)) {
      best = zone;
      bestCount = count;
    }
  }
  return best;
}

export interface TimezoneEvidence {
  /** The zone the service stated (Strava), already validated or not. */
  stated?: string;
  /** Start position from the listing or the first located sample. */
  position?: GeoPoint;
}

export interface TimezoneFallbacks {
  /** The user's most common zone among their activities. */
  userCommon?: string;
  /** The user's configured or browser zone. */
  userSetting?: string;
}

export interface ResolvedTimezone {
  zone: string;
  source: TimezoneSource;
}

/**
 * The timezone chain: the service's own zone, then the start position, then the user's most common zone, then the
 * user's configured zone. Undefined means "timezone unknown" (a non-permanent exclusion until more is known).
 */
export function resolveTimezone(
  evidence: TimezoneEvidence,
  fallbacks: TimezoneFallbacks = {},
): ResolvedTimezone | undefined {
  if (evidence.stated !== undefined && isValidTimezone(evidence.stated))
    return { zone: evidence.stated, source: 'listing' };
  const located = evidence.position === undefined ? undefined : timezoneAt(evidence.position);
  if (located !== undefined) return { zone: located, source: 'position' };
  if (fallbacks.userCommon !== undefined && isValidTimezone(fallbacks.userCommon)) {
    return { zone: fallbacks.userCommon, source: 'user_common' };
  }
  if (fallbacks.userSetting !== undefined && isValidTimezone(fallbacks.userSetting)) {
    return { zone: fallbacks.userSetting, source: 'user_setting' };
  }
  return undefined;
}

/** The local wall clock of a record's start, or undefined when an aware record has no zone. */
export function wallClockStart(record: Pick<TimedRecord, 'start' | 'timezone' | 'naive'>): number | undefined {
  if (record.naive === true) return record.start;
  if (record.timezone === undefined) return undefined;
  return wallClockFromInstant(record.start, record.timezone);
}

type TimeMapper = (t: number) => number;

function mapTimes<T extends TimedRecord>(record: T, map: TimeMapper, zone: string): T {
  const out: T = { ...record, start: map(record.start), timezone: zone, naive: false };
  if (record.end !== undefined) out.end = map(record.end);
  if (record.laps !== undefined) out.laps = record.laps.map((l) => ({ ...l, start: map(l.start), end: map(l.end) }));
  if (record.samples !== undefined) out.samples = record.samples.map((s) => ({ ...s, time: map(s.time) }));
  return out;
}

/**
 * naive → zoned: re-read every wall-clock time in `zone`. Times shift by the zone's offset (per time, so an activity
 * spanning a DST change stays continuous in wall-clock terms as the device recorded it).
 */
export function defineTimezone<T extends TimedRecord>(record: T, zone: string): T {
  assertTimezone(zone);
  if (record.naive !== true) throw new TimezoneStateError('define', false);
  const firstOffset = record.start - instantFromWallClock(record.start, zone);
  const lastWall = record.end ?? record.start;
  const constant = lastWall - instantFromWallClock(lastWall, zone) === firstOffset;
  // One luxon call per sample is slow on long activities; the offset only changes when DST does.
  const map: TimeMapper = constant ? (t) => t - firstOffset : (t) => instantFromWallClock(t, zone);
  return mapTimes(record, map, zone);
}

/** aware → other zone: the instants are unchanged; only the zone (and so the local wall clock) changes. */
export function adjustTimezone<T extends TimedRecord>(record: T, zone: string): T {
  assertTimezone(zone);
  if (record.naive === true) throw new TimezoneStateError('adjust', true);
  return { ...record, timezone: zone, naive: false };
}

/** Define or adjust depending on whether the record is naive (tapiriik's EnsureTZ). */
export function ensureTimezone<T extends TimedRecord>(record: T, zone: string): T {
  return record.naive === true ? defineTimezone(record, zone) : adjustTimezone(record, zone);
}

/** `Etc/GMT∓h` for a whole-hour offset in minutes (POSIX-style inverted sign), else undefined. */
export function fixedOffsetZone(offsetMinutes: number): string | undefined {
  if (!Number.isInteger(offsetMinutes) || offsetMinutes % 60 !== 0 || Math.abs(offsetMinutes) > 14 * 60)
    return undefined;
  if (offsetMinutes === 0) return 'Etc/UTC';
  return `Etc/GMT${offsetMinutes > 0 ? '-' : '+'}${Math.abs(offsetMinutes) / 60}`;
}

/**
 * tapiriik's EnsureTZ for a downloaded activity: its stated zone, else the zone at its first located sample; then the
 * offset the file itself claimed (FIT local_timestamp), used to pick whichever user fallback zone agrees with it, or as
 * a fixed-offset zone when none does; then the user's fallbacks. Define or adjust accordingly. Undefined means
 * "timezone unknown" (exclude until the next sync).
 */
export function zoneActivity(
  activity: Activity & { utcOffsetHint?: number },
  fallbacks: TimezoneFallbacks = {},
): { activity: Activity; source: TimezoneSource } | undefined {
  let resolved = resolveTimezone({ stated: activity.timezone, position: firstLocatedSample(activity.samples) });
  const hint = activity.utcOffsetHint;
  if (resolved === undefined && hint !== undefined && Number.isFinite(hint)) {
    const instant = activity.naive === true ? activity.start - hint * 60_000 : activity.start;
    const candidates: [string | undefined, TimezoneSource][] = [
      [fallbacks.userCommon, 'user_common'],
      [fallbacks.userSetting, 'user_setting'],
    ];
    for (const [zone, source] of candidates) {
      if (zone !== undefined && isValidTimezone(zone) && offsetAt(zone, instant) === hint * 60_000) {
        resolved = { zone, source };
        break;
      }
    }
    const fixed = resolved === undefined ? fixedOffsetZone(hint) : undefined;
    if (fixed !== undefined) resolved = { zone: fixed, source: 'offset_hint' };
  }
  resolved ??= resolveTimezone({}, fallbacks);
  if (resolved === undefined) return undefined;
  return { activity: ensureTimezone(activity, resolved.zone), source: resolved.source };
}
