import { find } from 'geo-tz';
import { DateTime } from 'luxon';
import type { SimTrack } from './activity-file.util';

/** The IANA zone where a track starts, from its first GPS fix; `fallback` for tracks without one. */
export function zoneForTrack(track: SimTrack, fallback: string): string {
  const fix = track.points.find((p) => p.lat !== undefined && p.lon !== undefined);
  if (fix?.lat === undefined || fix.lon === undefined) return fallback;
  return find(fix.lat, fix.lon)[0] ?? fallback;
}

/** Offset of `zone` from UTC at `epochMs`, in seconds. */
export function offsetSeconds(zone: string, epochMs: number): number {
  const dt = DateTime.fromMillis(epochMs, { zone });
  return dt.isValid ? dt.offset * 60 : 0;
}

/** Wall-clock time in `zone` rendered with `pattern` (luxon tokens). */
export function formatLocal(zone: string, epochMs: number, pattern: string): string {
  const dt = DateTime.fromMillis(epochMs, { zone });
  return (dt.isValid ? dt : DateTime.fromMillis(epochMs, { zone: 'UTC' })).toFormat(pattern);
}

export function formatUtc(epochMs: number, pattern: string): string {
  return DateTime.fromMillis(epochMs, { zone: 'UTC' }).toFormat(pattern);
}

/** Google encoded polyline (precision 5), as Strava's `map.summary_polyline`. */
export function encodePolyline(points: [number, number][]): string {
  let out = '';
  let prevLat = 0;
  let prevLon = 0;
  const encode = (value: number): void => {
    let v = value < 0 ? ~(value << 1) : value << 1;
    while (v >= 0x20) {
      out += String.fromCharCode((0x20 | (v & 0x1f)) + 63);
      v >>= 5;
    }
    out += String.fromCharCode(v + 63);
  };
  for (const [lat, lon] of points) {
    const la = Math.round(lat * 1e5);
    const lo = Math.round(lon * 1e5);
    encode(la - prevLat);
    encode(lo - prevLon);
    prevLat = la;
    prevLon = lo;
  }
  return out;
}
