import { InvalidTimestampError } from './sync.error';
import { isValidTimezone } from './timezone.util';

const STRAVA_ZONE = /^\s*(?:\(GMT[+-]\d{1,2}:\d{2}\)\s*)?([A-Za-z_]+(?:\/[A-Za-z0-9_+-]+)*)\s*$/;
const ISO_LOCAL = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]00:?00)?$/;

/**
 * Strava's `timezone` is "(GMT-05:00) America/New_York": the IANA zone behind a display prefix. Returns the zone,
 * or undefined when the value is missing or names no valid zone (the caller then falls back down the chain).
 */
export function parseStravaTimezone(value: string | null | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  const match = STRAVA_ZONE.exec(value);
  const zone = match?.[1];
  return zone !== undefined && isValidTimezone(zone) ? zone : undefined;
}

/**
 * Strava's `start_date_local` ends in `Z` although it is the local wall clock. Returns that wall clock as epoch ms
 * read as UTC (the Activity model's naive representation). Also accepts Garmin's "YYYY-MM-DD HH:MM:SS" form.
 */
export function stravaLocalToNaive(value: string): number {
  const m = ISO_LOCAL.exec(value.trim());
  if (m === null) throw new InvalidTimestampError('start_date_local', value);
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  const t = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  const check = new Date(t);
  // Date.UTC rolls 2024-02-31 over to March; a real timestamp never needs that.
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month - 1 || hour > 23 || minute > 59 || second > 59) {
    throw new InvalidTimestampError('start_date_local', value);
  }
  return t;
}

/** The fields of a Strava SummaryActivity that carry its start. */
export interface StravaStartFields {
  start_date?: string | null;
  start_date_local?: string | null;
  timezone?: string | null;
  utc_offset?: number | null;
}

/** The start in the Activity model's terms. */
export interface ParsedStart {
  start: number;
  timezone?: string;
  naive: boolean;
}

/**
 * The best start a Strava listing gives: the UTC `start_date` with the parsed zone when present; only the naive
 * local start when `start_date` is missing; and when only `utc_offset` is known, the instant without a zone
 * (a fixed offset is not a zone; the timezone chain finds the real one).
 */
export function parseStravaStart(fields: StravaStartFields): ParsedStart {
  const zone = parseStravaTimezone(fields.timezone);
  if (typeof fields.start_date === 'string') {
    const start = Date.parse(fields.start_date);
    if (!Number.isFinite(start) || !/(Z|[+-]\d{2}:?\d{2})$/.test(fields.start_date.trim())) {
      throw new InvalidTimestampError('start_date', fields.start_date);
    }
    return zone === undefined ? { start, naive: false } : { start, timezone: zone, naive: false };
  }
  if (typeof fields.start_date_local === 'string') {
    const wall = stravaLocalToNaive(fields.start_date_local);
    if (typeof fields.utc_offset === 'number' && Number.isFinite(fields.utc_offset)) {
      const start = wall - Math.round(fields.utc_offset) * 1000;
      return zone === undefined ? { start, naive: false } : { start, timezone: zone, naive: false };
    }
    return zone === undefined ? { start: wall, naive: true } : { start: wall, timezone: zone, naive: true };
  }
  throw new InvalidTimestampError('start_date', fields.start_date ?? null);
}
