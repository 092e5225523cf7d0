import { isActivityType, ACTIVITY_TYPES } from '@tributary/activity';

/** The type's label ("Trail run"), or the raw value when the record holds a type this hub does not know. */
export function typeLabel(type: string): string {
  return isActivityType(type) ? ACTIVITY_TYPES[type].label : type;
}

/** Metres as kilometres with a precision that suits the size ("850 m", "5.03 km", "123 km"). */
export function formatDistance(metres: number | null | undefined): string {
  if (metres === null || metres === undefined || !Number.isFinite(metres)) return '–';
  if (metres < 1000) return `${Math.round(metres)} m`;
  const km = metres / 1000;
  return `${km >= 100 ? Math.round(km) : km.toFixed(2)} km`;
}

/** Seconds as h:mm:ss, or m:ss under an hour. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '–';
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = String(m).padStart(h > 0 ? 2 : 1, '0');
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}

/** Whole hours and minutes for totals ("12 h 05 min", "45 min"). */
export function formatHours(seconds: number): string {
  const minutes = Math.round(seconds / 60);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return h > 0 ? `${h} h ${String(m).padStart(2, '0')} min` : `${m} min`;
}

/** m/s as km/h. */
export function formatSpeed(mps: number | undefined): string {
  if (mps === undefined || !Number.isFinite(mps)) return '–';
  return `${(mps * 3.6).toFixed(1)} km/h`;
}

/** m/s as a running pace per km ("5:12 /km"). */
export function formatPace(mps: number | undefined): string {
  if (mps === undefined || !Number.isFinite(mps) || mps <= 0) return '–';
  const secondsPerKm = Math.round(1000 / mps);
  return `${Math.floor(secondsPerKm / 60)}:${String(secondsPerKm % 60).padStart(2, '0')} /km`;
}

/**
 * When the activity started, as the athlete's wall clock in its own time zone when known (a 7 am run reads 07:00
 * wherever the hub runs), else in UTC with the zone said.
 */
export function formatStart(at: Date, timezone: string | null): string {
  const zone = timezone !== null && isTimeZone(timezone) ? timezone : 'UTC';
  const text = new Intl.DateTimeFormat('en-GB', {
    timeZone: zone,
    weekday: 'short',
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(at);
  return zone === 'UTC' ? `${text} UTC` : text;
}

/** A date as YYYY-MM-DD (UTC), the value of a date input. */
export function isoDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
