import {
  type Activity,
  type ActivityStats,
  type ActivityType,
  type Lap,
  type Sample,
  ancestry,
  mergeMissingStats,
  statsFromSamples,
} from '@tributary/activity';
import { FormatError } from '../format.error';
import { activityStats, maxOf } from '../xml/activity-stats.util';
import { type ReadXmlOptions, type XmlNode, readXml } from '../xml/xml-reader.util';
import { RANGES, type Range, parseDateTime, parseDecimal } from '../xml/xml-values.util';

/*
 * PWX (TrainingPeaks / Peaksware 1.0) → Activity.
 *
 * Decisions worth knowing:
 * - Only the first <workout> is read (the formats hold one activity per file in practice).
 * - <time> is the start; without it the samples' offsets cannot be placed and the file is refused ('no_activity'),
 *   as tapiriik did. Device Agent writes it without an offset in local time: the activity is then `naive`.
 * - Each <segment> is a lap: [start + beginning, + duration]. Without segments one lap spans the workout.
 * - summarydata: duration is elapsed time, duration − durationstopped the timer time, climbing/descendingelevation
 *   the elevation gain/loss.
 * - cad counts one foot for on-foot sports (same convention as TCX/GPX): doubled into runCadence for those.
 * - Lost on reading: athlete, goal, code, torque, work/tss/normalizedPower, extensions, segment names.
 */

const FORMAT = 'pwx';

const SPORTS = new Map<string, ActivityType>(
  Object.entries({
    bike: 'cycling',
    run: 'running',
    walk: 'walking',
    swim: 'swimming',
    brick: 'multisport',
    'mountain bike': 'mountain_biking',
    strength: 'strength_training',
    'xc ski': 'cross_country_skiing',
    rowing: 'rowing',
  }),
);

export function pwxSportToActivityType(sport: string | undefined): ActivityType {
  return SPORTS.get((sport ?? '').trim().toLowerCase()) ?? 'other';
}

export function decodePwx(input: Uint8Array, options: ReadXmlOptions = {}): Activity {
  const root = readXml(input, FORMAT, options);
  if (root.name !== 'pwx')
    throw new FormatError(FORMAT, 'not_this_format', `the root element is <${root.name}>, not <pwx>`);
  const workout = root.child('workout');
  if (workout === undefined) throw new FormatError(FORMAT, 'no_activity', 'the file has no <workout>');
  const startTime = parseDateTime(workout.childText('time'), 'workout time', FORMAT);
  if (startTime === undefined) {
    throw new FormatError(FORMAT, 'no_activity', 'the workout has no <time>, so its samples cannot be placed in time');
  }
  const start = startTime.ms;
  const type = pwxSportToActivityType(workout.childText('sportType'));
  const onFoot = ancestry(type).includes('on_foot');
  const samples = workout.children('sample').map((node) => decodeSample(node, start, onFoot));

  const summary = workout.child('summarydata');
  const workoutStats = summary === undefined ? {} : decodeSummary(summary, onFoot);
  const duration = workoutStats.elapsedTime ?? 0;
  const lastSample = samples[samples.length - 1];
  const end = Math.max(start + Math.round(duration * 1000), lastSample?.time ?? start);

  const segments = workout.children('segment');
  const laps: Lap[] =
    segments.length > 0
      ? segments.map((segment, i) => decodeSegment(segment, start, samples, i === segments.length - 1, onFoot))
      : [{ start, end, stats: mergeMissingStats(workoutStats, statsFromSamples(samples)) }];
  laps.sort((a, b) => a.start - b.start);

  const activity: Activity = {
    start,
    end: Math.max(
      end,
      maxOf(
        laps.map((l) => l.end),
        end,
      ),
    ),
    type,
    laps,
    samples,
    stats: {},
  };
  activity.stats = mergeMissingStats(
    { ...workoutStats, elapsedTime: (activity.end - start) / 1000 },
    activityStats(laps, samples, start, activity.end),
  );
  if (startTime.naive) activity.naive = true;
  const title = workout.childText('title');
  if (title !== undefined) activity.name = title;
  const cmt = workout.childText('cmt');
  if (cmt !== undefined) activity.notes = cmt;
  const device = workout.child('device');
  const make = device?.childText('make');
  const model = device?.childText('model');
  const id = device?.attr('id');
  if (make !== undefined || model !== undefined || (id !== undefined && id !== '')) {
    activity.device = {};
    if (make !== undefined) activity.device.manufacturer = make;
    if (model !== undefined) activity.device.product = model;
    if (id !== undefined && id !== '') activity.device.serial = id;
  }
  if (samples.some((s) => s.lat !== undefined)) activity.gps = true;
  return activity;
}

function decodeSegment(node: XmlNode, start: number, samples: Sample[], last: boolean, onFoot: boolean): Lap {
  const summary = node.child('summarydata');
  if (summary === undefined) throw new FormatError(FORMAT, 'malformed', 'a <segment> has no <summarydata>');
  const beginning = parseDecimal(summary.childText('beginning'), 'segment beginning', FORMAT, RANGES.seconds) ?? 0;
  const stats = decodeSummary(summary, onFoot);
  // Whole ms like the sample times: 1.005 s × 1000 is 1004.9999999999999 in binary floating point.
  const lapStart = start + Math.round(beginning * 1000);
  const lapEnd = lapStart + Math.round((stats.elapsedTime ?? 0) * 1000);
  return {
    start: lapStart,
    end: lapEnd,
    stats: mergeMissingStats(stats, statsFromSamples(samples, { start: lapStart, end: lapEnd, endInclusive: last })),
  };
}

function decodeSummary(node: XmlNode, onFoot: boolean): ActivityStats {
  const num = (name: string, range: Range): number | undefined =>
    parseDecimal(node.childText(name), `summarydata ${name}`, FORMAT, range);
  const mma = (name: string, range: Range, factor = 1): { avg?: number; min?: number; max?: number } | undefined => {
    const el = node.child(name);
    if (el === undefined) return undefined;
    const out: { avg?: number; min?: number; max?: number } = {};
    for (const key of ['avg', 'min', 'max'] as const) {
      const v = parseDecimal(el.attr(key), `summarydata ${name} ${key}`, FORMAT, range);
      if (v !== undefined) out[key] = v * factor;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  };
  const stats: ActivityStats = {};
  const duration = num('duration', RANGES.seconds);
  const stopped = num('durationstopped', RANGES.seconds);
  if (duration !== undefined) {
    stats.elapsedTime = duration;
    stats.timerTime = Math.max(0, duration - (stopped ?? 0));
  }
  const dist = num('dist', RANGES.distance);
  if (dist !== undefined) stats.distance = dist;
  const hr = mma('hr', RANGES.heartRate);
  if (hr !== undefined) stats.heartRate = hr;
  const spd = mma('spd', RANGES.speed);
  if (spd !== undefined) stats.speed = spd;
  const pwr = mma('pwr', { min: -32768, max: 32767 });
  if (pwr !== undefined) stats.power = pwr;
  const cad = mma('cad', RANGES.cadence, onFoot ? 2 : 1);
  if (cad !== undefined) stats[onFoot ? 'runCadence' : 'cadence'] = cad;
  const temp = mma('temp', RANGES.temperature);
  if (temp !== undefined) stats.temperature = temp;
  const alt = mma('alt', RANGES.altitude);
  const gain = num('climbingelevation', RANGES.distance);
  const loss = num('descendingelevation', RANGES.distance);
  if (alt !== undefined || gain !== undefined || loss !== undefined) {
    stats.elevation = { ...(alt ?? {}) };
    if (gain !== undefined) stats.elevation.gain = gain;
    if (loss !== undefined) stats.elevation.loss = loss;
  }
  return stats;
}

function decodeSample(node: XmlNode, start: number, onFoot: boolean): Sample {
  const offset = parseDecimal(node.childText('timeoffset'), 'sample timeoffset', FORMAT, RANGES.seconds);
  // timeoffset is required; a sample carrying only its absolute <time> is still placed rather than refused.
  const absolute = offset === undefined ? parseDateTime(node.childText('time'), 'sample time', FORMAT) : undefined;
  if (offset === undefined && absolute === undefined) {
    throw new FormatError(FORMAT, 'malformed', 'a <sample> has no <timeoffset>');
  }
  const sample: Sample = { time: offset === undefined ? absolute!.ms : start + Math.round(offset * 1000) };
  const set = (key: keyof Sample, name: string, range: Range, factor = 1): void => {
    const v = parseDecimal(node.childText(name), `sample ${name}`, FORMAT, range);
    if (v !== undefined) (sample as unknown as Record<string, number>)[key] = v * factor;
  };
  set('heartRate', 'hr', RANGES.heartRate);
  set('speed', 'spd', RANGES.speed);
  set('power', 'pwr', { min: -32768, max: 32767 });
  if (onFoot) set('runCadence', 'cad', RANGES.cadence, 2);
  else set('cadence', 'cad', RANGES.cadence);
  set('distance', 'dist', RANGES.distance);
  const lat = parseDecimal(node.childText('lat'), 'sample lat', FORMAT, RANGES.latitude);
  const lon = parseDecimal(node.childText('lon'), 'sample lon', FORMAT, RANGES.longitude);
  if (lat !== undefined && lon !== undefined) {
    sample.lat = lat;
    sample.lon = lon;
  }
  set('altitude', 'alt', RANGES.altitude);
  set('temperature', 'temp', RANGES.temperature);
  return sample;
}
