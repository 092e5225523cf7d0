import {
  type Activity,
  type ActivityStats,
  type ActivityType,
  type Device,
  type Lap,
  type LapTrigger,
  type Sample,
  type StatValue,
} from '@tributary/activity';
import { FormatError } from '../format.error';
import { activityStats, lapStats, maxOf } from '../xml/activity-stats.util';
import { type ReadXmlOptions, type XmlNode, readXml } from '../xml/xml-reader.util';
import { RANGES, type Range, parseDateTime, parseDecimal } from '../xml/xml-values.util';

/*
 * TCX (Training Center Database v2) → Activity.
 *
 * Decisions worth knowing:
 * - Every <Activity> and every <MultiSportSession> leg in the file becomes part of ONE activity. With more than one
 *   leg, or any MultiSportSession, the type is 'multisport' and each lap carries its leg's sport; a <Transition> lap
 *   gets sport 'transition'.
 * - Several <Track> elements inside one <Lap> mean the timer was stopped between them (Garmin writes a new Track on
 *   resume): the last point before the gap is marked 'pause' and the first after it 'resume'.
 * - The activity <Notes> follow tapiriik: the first line is the name, the remaining lines are the notes.
 * - TotalTimeSeconds is timer time. A lap ends where the next one starts; the last lap at its last point or at
 *   StartTime + TotalTimeSeconds, whichever is later.
 * - RunCadence (TPX, and LX Avg/MaxRunCadence) counts one foot, the model counts steps of both: it is doubled.
 * - Times without Z or offset are local wall-clock times: the activity is returned `naive`.
 * - Lost on reading: SensorState, lap Notes, Training/Workouts/Courses, the file's Author, Creator build numbers.
 */

const FORMAT = 'tcx';

interface Leg {
  activity: XmlNode;
  transition?: XmlNode;
}

interface DecodedLap {
  lap: Lap;
  samples: Sample[];
  /** The lap's own TotalTimeSeconds, needed to place its end. */
  timer?: number;
}

export function decodeTcx(input: Uint8Array, options: ReadXmlOptions = {}): Activity {
  const root = readXml(input, FORMAT, options);
  if (root.name !== 'TrainingCenterDatabase') {
    throw new FormatError(
      FORMAT,
      'not_this_format',
      `the root element is <${root.name}>, not <TrainingCenterDatabase>`,
    );
  }
  const list = root.child('Activities');
  const legs: Leg[] = [];
  let multisport = false;
  let sessionNotes: string | undefined;
  for (const activity of list?.children('Activity') ?? []) legs.push({ activity });
  for (const session of list?.children('MultiSportSession') ?? []) {
    multisport = true;
    sessionNotes ??= session.childText('Notes');
    const first = session.child('FirstSport')?.child('Activity');
    if (first !== undefined) legs.push({ activity: first });
    for (const next of session.children('NextSport')) {
      const activity = next.child('Activity');
      if (activity !== undefined) legs.push({ activity, transition: next.child('Transition') });
    }
  }
  if (legs.length === 0)
    throw new FormatError(FORMAT, 'no_activity', 'the file has no <Activity> (a course or workout?)');

  const naive: boolean[] = [];
  const decoded: DecodedLap[] = [];
  const legSports: ActivityType[] = [];
  for (const leg of legs) {
    const sport = sportFromTcx(leg.activity.attr('Sport'));
    legSports.push(sport);
    if (leg.transition !== undefined) decoded.push(decodeLap(leg.transition, 'transition', naive));
    for (const lapNode of leg.activity.children('Lap')) decoded.push(decodeLap(lapNode, sport, naive));
  }
  if (decoded.length === 0) throw new FormatError(FORMAT, 'no_activity', 'the activity has no <Lap>');
  decoded.sort((a, b) => a.lap.start - b.lap.start);

  const distinctSports = new Set(legSports);
  multisport ||= distinctSports.size > 1;
  decoded.forEach((d, i) => {
    const next = decoded[i + 1];
    const lastSample = d.samples[d.samples.length - 1];
    // Laps are contiguous (the timer only pauses, it never leaves a lap), so a lap ends where the next begins.
    const end =
      next !== undefined
        ? next.lap.start
        : // Whole ms like every other time: 1.005 s × 1000 is 1004.9999999999999 in binary floating point.
          Math.max(d.lap.start + Math.round((d.timer ?? 0) * 1000), lastSample?.time ?? d.lap.start);
    d.lap.end = end;
    d.lap.stats = lapStats(d.lap, d.samples);
    if (!multisport) delete d.lap.sport;
  });

  const laps = decoded.map((d) => d.lap);
  const samples = decoded.flatMap((d) => d.samples);
  const start = Math.min(laps[0]!.start, samples[0]?.time ?? Infinity);
  const end = Math.max(
    maxOf(
      laps.map((l) => l.end),
      start,
    ),
    samples[samples.length - 1]?.time ?? -Infinity,
  );
  const firstActivity = legs[0]!.activity;
  const activity: Activity = {
    start,
    end,
    type: multisport ? 'multisport' : legSports[0]!,
    laps,
    samples,
    stats: activityStats(laps, samples, start, end),
  };
  if (naive[0] === true) activity.naive = true;
  Object.assign(activity, splitNotes(sessionNotes ?? firstActivity.childText('Notes')));
  const device = decodeCreator(firstActivity.child('Creator'));
  if (device !== undefined) activity.device = device;
  if (samples.some((s) => s.lat !== undefined)) activity.gps = true;
  return activity;
}

export function sportFromTcx(sport: string | undefined): ActivityType {
  // The XSD says Running/Biking/Other; some apps write them in lower case.
  const value = sport?.toLowerCase();
  if (value === 'running') return 'running';
  if (value === 'biking') return 'cycling';
  return 'other';
}

/** tapiriik's rule: first line → name, the rest → notes. */
export function splitNotes(text: string | undefined): { name?: string; notes?: string } {
  if (text === undefined) return {};
  const [first, ...rest] = text.split(/\r?\n/);
  const out: { name?: string; notes?: string } = {};
  if (first !== undefined && first.trim() !== '') out.name = first.trim();
  const notes = rest.join('\n').trim();
  if (notes !== '') out.notes = notes;
  return out;
}

function decodeLap(node: XmlNode, sport: ActivityType, naive: boolean[]): DecodedLap {
  const startTime = parseDateTime(node.attr('StartTime'), 'Lap StartTime', FORMAT);
  if (startTime === undefined) throw new FormatError(FORMAT, 'malformed', 'a <Lap> has no StartTime');
  naive.push(startTime.naive);
  const num = (text: string | undefined, what: string, range: Range): number | undefined =>
    parseDecimal(text, what, FORMAT, range);
  const lx = node.child('Extensions')?.child('LX');
  const timer = num(node.childText('TotalTimeSeconds'), 'Lap TotalTimeSeconds', RANGES.seconds);
  const runCadenceAvg = num(lx?.childText('AvgRunCadence'), 'LX AvgRunCadence', RANGES.cadence);
  const runCadenceMax = num(lx?.childText('MaxRunCadence'), 'LX MaxRunCadence', RANGES.cadence);
  const given: ActivityStats = {
    timerTime: timer,
    distance: num(node.childText('DistanceMeters'), 'Lap DistanceMeters', RANGES.distance),
    energy: num(node.childText('Calories'), 'Lap Calories', RANGES.calories),
    speed: stat(
      num(lx?.childText('AvgSpeed'), 'LX AvgSpeed', RANGES.speed),
      num(node.childText('MaximumSpeed'), 'Lap MaximumSpeed', RANGES.speed),
    ),
    heartRate: stat(
      num(node.child('AverageHeartRateBpm')?.childText('Value'), 'Lap AverageHeartRateBpm', RANGES.heartRate),
      num(node.child('MaximumHeartRateBpm')?.childText('Value'), 'Lap MaximumHeartRateBpm', RANGES.heartRate),
    ),
    cadence: stat(
      num(node.childText('Cadence'), 'Lap Cadence', RANGES.cadence),
      num(lx?.childText('MaxBikeCadence'), 'LX MaxBikeCadence', RANGES.cadence),
    ),
    runCadence: stat(
      runCadenceAvg === undefined ? undefined : runCadenceAvg * 2,
      runCadenceMax === undefined ? undefined : runCadenceMax * 2,
    ),
    power: stat(
      num(lx?.childText('AvgWatts'), 'LX AvgWatts', RANGES.power),
      num(lx?.childText('MaxWatts'), 'LX MaxWatts', RANGES.power),
    ),
    strides: num(lx?.childText('Steps'), 'LX Steps', RANGES.count),
  };
  const lap: Lap = {
    start: startTime.ms,
    end: startTime.ms,
    sport,
    stats: Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)),
  };
  const trigger = triggerFromTcx(node.childText('TriggerMethod'));
  if (trigger !== undefined) lap.trigger = trigger;
  const intensity = node.childText('Intensity');
  if (intensity === 'Resting') lap.intensity = 'rest';
  else if (intensity === 'Active') lap.intensity = 'active';

  const samples: Sample[] = [];
  const tracks = node
    .children('Track')
    .map((track) => track.children('Trackpoint').map((tp) => decodeTrackpoint(tp, naive)))
    .filter((points) => points.length > 0);
  tracks.forEach((points, i) => {
    if (i > 0) points[0]!.marker = 'resume';
    if (i < tracks.length - 1) points[points.length - 1]!.marker = 'pause';
    samples.push(...points);
  });
  return { lap, samples, timer };
}

function stat(avg: number | undefined, max: number | undefined): StatValue | undefined {
  if (avg === undefined && max === undefined) return undefined;
  const value: StatValue = {};
  if (avg !== undefined) value.avg = avg;
  if (max !== undefined) value.max = max;
  return value;
}

// HeartRate has no counterpart in the model's lap triggers.
const TRIGGERS = new Map<string, LapTrigger>([
  ['Manual', 'manual'],
  ['Distance', 'distance'],
  ['Time', 'time'],
  ['Location', 'position_lap'],
]);

function triggerFromTcx(value: string | undefined): LapTrigger | undefined {
  return value === undefined ? undefined : TRIGGERS.get(value);
}

function decodeTrackpoint(node: XmlNode, naive: boolean[]): Sample {
  const time = parseDateTime(node.childText('Time'), 'Trackpoint Time', FORMAT);
  if (time === undefined) throw new FormatError(FORMAT, 'malformed', 'a <Trackpoint> has no <Time>');
  naive.push(time.naive);
  const sample: Sample = { time: time.ms };
  const position = node.child('Position');
  const lat = parseDecimal(position?.childText('LatitudeDegrees'), 'LatitudeDegrees', FORMAT, RANGES.latitude);
  const lon = parseDecimal(position?.childText('LongitudeDegrees'), 'LongitudeDegrees', FORMAT, RANGES.longitude);
  if (lat !== undefined && lon !== undefined) {
    sample.lat = lat;
    sample.lon = lon;
  }
  const tpx = node.child('Extensions')?.child('TPX');
  const runCadence = parseDecimal(tpx?.childText('RunCadence'), 'TPX RunCadence', FORMAT, RANGES.cadence);
  const fields: Partial<Sample> = {
    altitude: parseDecimal(node.childText('AltitudeMeters'), 'AltitudeMeters', FORMAT, RANGES.altitude),
    distance: parseDecimal(node.childText('DistanceMeters'), 'DistanceMeters', FORMAT, RANGES.distance),
    heartRate: parseDecimal(node.child('HeartRateBpm')?.childText('Value'), 'HeartRateBpm', FORMAT, RANGES.heartRate),
    cadence: parseDecimal(node.childText('Cadence'), 'Cadence', FORMAT, RANGES.cadence),
    speed: parseDecimal(tpx?.childText('Speed'), 'TPX Speed', FORMAT, RANGES.speed),
    runCadence: runCadence === undefined ? undefined : runCadence * 2,
    power: parseDecimal(tpx?.childText('Watts'), 'TPX Watts', FORMAT, RANGES.power),
  };
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) (sample as unknown as Record<string, number>)[key] = value as number;
  }
  return sample;
}

function decodeCreator(node: XmlNode | undefined): Device | undefined {
  if (node === undefined) return undefined;
  const device: Device = {};
  const name = node.childText('Name');
  if (name !== undefined) device.name = name;
  const unitId = node.childText('UnitId');
  if (unitId !== undefined && unitId !== '0') device.serial = unitId;
  const productId = parseDecimal(node.childText('ProductID'), 'Creator ProductID', FORMAT, { min: 0, max: 65535 });
  if (productId !== undefined && productId !== 0) device.productId = productId;
  const version = node.child('Version');
  const major = parseDecimal(version?.childText('VersionMajor'), 'VersionMajor', FORMAT, { min: 0, max: 65535 });
  const minor = parseDecimal(version?.childText('VersionMinor'), 'VersionMinor', FORMAT, { min: 0, max: 65535 });
  if (major !== undefined && (major !== 0 || (minor ?? 0) !== 0)) {
    device.softwareVersion = `${major}.${String(minor ?? 0).padStart(2, '0')}`;
  }
  return Object.keys(device).length === 0 ? undefined : device;
}
