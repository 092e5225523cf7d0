import {
  ACTIVITY_TYPES,
  type Activity,
  type ActivityType,
  type Lap,
  type Sample,
  ancestry,
  isActivityType,
  statsFromSamples,
} from '@tributary/activity';
import { FormatError } from '../format.error';
import { activityStats, maxOf, minOf } from '../xml/activity-stats.util';
import { type ReadXmlOptions, type XmlNode, readXml } from '../xml/xml-reader.util';
import { RANGES, type Range, parseDateTime, parseDecimal } from '../xml/xml-values.util';

/*
 * GPX 1.0 / 1.1 → Activity.
 *
 * Decisions worth knowing:
 * - Every non-empty <trkseg> of every <trk> becomes one lap (tapiriik's rule); the lap spans its first to last point
 *   and the gap between segments is not counted in distance. Waypoints and routes are ignored.
 * - An activity needs times. A segment whose points have no <time> at all is skipped (a planned route recorded next
 *   to the track); a segment where only some points have a time, or a file with no timed point, is refused with
 *   'no_activity' and a message saying how many points lack a time.
 * - Sensor data is read by local name from any extension, whatever the prefix: Garmin TrackPointExtension v1/v2
 *   (hr, cad, atemp, wtemp, speed), PowerExtension (PowerInWatts), ClueTrust gpxdata (hr, cadence, temp, distance),
 *   and a bare <power>. GPX 1.0's <speed> child is read too.
 * - cad counts one foot for on-foot sports (Garmin convention): it is doubled into runCadence for those.
 * - Distance is computed along the points (haversine) when the file has none.
 * - The type comes from the first <trk><type>: canonical names, common words and Strava's numeric codes.
 * - The <gpx creator> attribute becomes device.name.
 * - Lost on reading: course/bearing, depth, waypoints, routes, metadata time (the points' times are authoritative).
 */

const FORMAT = 'gpx';

interface Segment {
  samples: Sample[];
}

export function decodeGpx(input: Uint8Array, options: ReadXmlOptions = {}): Activity {
  const root = readXml(input, FORMAT, options);
  if (root.name !== 'gpx')
    throw new FormatError(FORMAT, 'not_this_format', `the root element is <${root.name}>, not <gpx>`);
  const tracks = root.children('trk');
  const typeText = tracks.map((t) => t.childText('type')).find((t) => t !== undefined);
  const type = gpxTypeToActivityType(typeText);
  const onFoot = ancestry(type).includes('on_foot');

  const segments: Segment[] = [];
  const naive: boolean[] = [];
  let untimedPoints = 0;
  let index = 0;
  for (const track of tracks) {
    for (const seg of track.children('trkseg')) {
      index += 1;
      const points = seg.children('trkpt');
      if (points.length === 0) continue;
      const timed = points.filter((p) => p.childText('time') !== undefined).length;
      if (timed === 0) {
        untimedPoints += points.length;
        continue;
      }
      if (timed < points.length) {
        throw new FormatError(
          FORMAT,
          'no_activity',
          `track segment ${index}: ${points.length - timed} of ${points.length} points have no <time>; an activity needs a time on every point`,
        );
      }
      segments.push({ samples: points.map((p) => decodePoint(p, onFoot, naive)) });
    }
  }
  if (segments.length === 0) {
    throw new FormatError(
      FORMAT,
      'no_activity',
      untimedPoints > 0
        ? `none of the ${untimedPoints} track points has a <time>: a route, not a recorded activity`
        : 'the file has no track points',
    );
  }

  const laps: Lap[] = segments.map(({ samples }) => {
    const start = samples[0]!.time;
    const end = samples[samples.length - 1]!.time;
    return { start, end, stats: statsFromSamples(samples) };
  });
  const samples = segments.flatMap((s) => s.samples);
  const start = minOf(
    laps.map((l) => l.start),
    0,
  );
  const end = maxOf(
    laps.map((l) => l.end),
    start,
  );
  const activity: Activity = {
    start,
    end,
    type,
    laps,
    samples,
    stats: activityStats(laps, samples, start, end),
    gps: true,
  };
  if (naive[0] === true) activity.naive = true;
  const metadata = root.child('metadata');
  const name = tracks.map((t) => t.childText('name')).find((n) => n !== undefined) ?? metadata?.childText('name');
  const notes =
    tracks.map((t) => t.childText('desc')).find((n) => n !== undefined) ??
    metadata?.childText('desc') ??
    root.childText('desc');
  if (name !== undefined) activity.name = name;
  else if (root.childText('name') !== undefined) activity.name = root.childText('name');
  if (notes !== undefined) activity.notes = notes;
  const creator = root.attr('creator');
  if (creator !== undefined && creator !== '') activity.device = { name: creator };
  return activity;
}

function decodePoint(node: XmlNode, onFoot: boolean, naive: boolean[]): Sample {
  const lat = parseDecimal(node.attr('lat'), 'trkpt lat', FORMAT, RANGES.latitude);
  const lon = parseDecimal(node.attr('lon'), 'trkpt lon', FORMAT, RANGES.longitude);
  if (lat === undefined || lon === undefined) throw new FormatError(FORMAT, 'malformed', 'a <trkpt> has no lat/lon');
  const time = parseDateTime(node.childText('time'), 'trkpt time', FORMAT)!;
  naive.push(time.naive);
  const sample: Sample = { time: time.ms, lat, lon };
  const set = (key: keyof Sample, value: number | undefined): void => {
    if (value !== undefined) (sample as unknown as Record<string, number>)[key] = value;
  };
  set('altitude', parseDecimal(node.childText('ele'), 'ele', FORMAT, RANGES.altitude));
  set('speed', parseDecimal(node.childText('speed'), 'speed', FORMAT, RANGES.speed));
  const ext = collectExtensions(node.child('extensions'));
  const read = (names: string[], what: string, range: Range): number | undefined => {
    const text = names.map((n) => ext.get(n.toLowerCase())).find((t) => t !== undefined);
    return parseDecimal(text, what, FORMAT, range);
  };
  set('heartRate', read(['hr', 'heartrate'], 'heart rate', RANGES.heartRate));
  const cad = read(['cad', 'cadence'], 'cadence', RANGES.cadence);
  if (cad !== undefined) set(onFoot ? 'runCadence' : 'cadence', onFoot ? cad * 2 : cad);
  set('power', read(['PowerInWatts', 'power', 'watts'], 'power', RANGES.power));
  set('temperature', read(['atemp', 'temp', 'temperature', 'wtemp'], 'temperature', RANGES.temperature));
  if (sample.speed === undefined) set('speed', read(['speed'], 'speed', RANGES.speed));
  set('distance', read(['distance'], 'distance', RANGES.distance));
  return sample;
}

/** First text value per lower-cased local name anywhere under <extensions> (bounded depth). */
function collectExtensions(node: XmlNode | undefined): Map<string, string> {
  const found = new Map<string, string>();
  const visit = (n: XmlNode, depth: number): void => {
    if (depth > 4) return;
    for (const name of n.childNames()) {
      for (const child of n.children(name)) {
        const key = name.toLowerCase();
        const text = child.text();
        if (text !== undefined && !found.has(key) && child.childNames().length === 0) found.set(key, text);
        visit(child, depth + 1);
      }
    }
  };
  if (node !== undefined) visit(node, 0);
  return found;
}

// Strava's activity type enum as it appears in its GPX exports (<type>1</type> for a ride, 9 for a run).
const STRAVA_CODES = new Map<string, ActivityType>(
  Object.entries({
    '1': 'cycling',
    '2': 'downhill_skiing',
    '3': 'backcountry_skiing',
    '4': 'hiking',
    '5': 'ice_skating',
    '6': 'inline_skating',
    '7': 'cross_country_skiing',
    '8': 'roller_skiing',
    '9': 'running',
    '10': 'walking',
    '12': 'snowboarding',
    '13': 'snowshoeing',
    '16': 'swimming',
    '17': 'virtual_ride',
    '18': 'e_biking',
    '22': 'kayaking',
    '23': 'rowing',
    '24': 'stand_up_paddling',
    '25': 'surfing',
    '27': 'elliptical',
    '30': 'strength_training',
    '31': 'yoga',
    '53': 'virtual_running',
  }),
);

const WORDS = new Map<string, ActivityType>(
  Object.entries({
    run: 'running',
    ride: 'cycling',
    bike: 'cycling',
    biking: 'cycling',
    road_biking: 'road_cycling',
    mtb: 'mountain_biking',
    mountainbike: 'mountain_biking',
    mountain_bike: 'mountain_biking',
    walk: 'walking',
    hike: 'hiking',
    swim: 'swimming',
    virtualride: 'virtual_ride',
    virtual_run: 'virtual_running',
    virtualrun: 'virtual_running',
    ebikeride: 'e_biking',
    alpineski: 'downhill_skiing',
    nordicski: 'cross_country_skiing',
    rowing: 'rowing',
    kayaking: 'kayaking',
    weighttraining: 'strength_training',
    trail_run: 'trail_running',
    trailrun: 'trail_running',
    treadmill: 'treadmill_running',
  }),
);

export function gpxTypeToActivityType(text: string | undefined): ActivityType {
  if (text === undefined) return 'other';
  const trimmed = text.trim();
  const code = STRAVA_CODES.get(trimmed);
  if (code !== undefined) return code;
  const key = trimmed.toLowerCase().replace(/[^a-z0-9]+/g, '_');
  if (isActivityType(key) && !('abstract' in ACTIVITY_TYPES[key])) return key;
  const compact = key.replace(/_/g, '');
  return WORDS.get(key) ?? WORDS.get(compact) ?? 'other';
}
