import {
  type Activity,
  type ActivityStats,
  type ActivityType,
  type Sample,
  ancestry,
  hasMeasurement,
  mergeMissingStats,
  statsFromSamples,
} from '@tributary/activity';
import { FormatError } from '../format.error';
import { assertEncodable, assignSamplesToLaps, lapStats, maxOf, minOf } from '../xml/activity-stats.util';
import {
  RANGES,
  type Range,
  decimalText,
  formatDateTime,
  formatDecimal,
  integerWithin,
  requiredAmount,
} from '../xml/xml-values.util';
import { type XmlTree, writeXml } from '../xml/xml-writer.util';

/*
 * Activity → PWX 1.0, valid against pwx.xsd.
 *
 * - One <workout>; each lap is a <segment> whose summarydata.beginning is its offset from the start; every sample is
 *   a <sample> with its offset in seconds (millisecond precision).
 * - <time> is written as a UTC instant with Z (or without a zone for naive activities), not in local time.
 * - Device: make = manufacturer, model = product (or name), id attribute = serial.
 * - Sport: Bike, Mountain Bike, Run, Walk (hiking too, as tapiriik did), Swim, XC Ski, Rowing, Strength, Brick
 *   (multisport), else Other.
 * - Samples sharing a timestamp are merged; NaN, infinite or implausible values (and negative power) are left out.
 * - Cannot be carried (lost): pause markers (durationstopped keeps the total stopped time), calories, lap triggers
 *   and intensities, lap sports of a multisport, the precise type, odd run cadences (one foot: steps/min ÷ 2).
 */

const PWX_NS = 'http://www.peaksware.com/PWX/1/0';
const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';
const FORMAT = 'pwx';
// xsd:short, and negative power is not a measurement.
const PWX_POWER: Range = { min: 0, max: 32767 };

export function pwxSportFor(type: ActivityType): string {
  const chain = ancestry(type);
  if (chain.includes('mountain_biking')) return 'Mountain Bike';
  if (chain.includes('cycling')) return 'Bike';
  if (chain.includes('running')) return 'Run';
  if (chain.includes('walking')) return 'Walk';
  if (chain.includes('swimming')) return 'Swim';
  if (chain.includes('cross_country_skiing')) return 'XC Ski';
  if (chain.includes('rowing')) return 'Rowing';
  if (chain.includes('strength_training')) return 'Strength';
  if (chain.includes('multisport')) return 'Brick';
  return 'Other';
}

export function encodePwx(activity: Activity): Uint8Array {
  assertEncodable(activity, FORMAT);
  const start = activity.start;
  const onFoot = ancestry(activity.type).includes('on_foot');
  const laps = assignSamplesToLaps(activity);
  const points = laps.flatMap((l) => l.samples).filter((s) => hasMeasurement(s) || s.marker === undefined);
  const firstTime = minOf(
    points.map((s) => s.time),
    start,
  );
  if (firstTime < start) {
    throw new FormatError(
      FORMAT,
      'unencodable',
      'a sample lies before the activity start; PWX offsets cannot be negative',
    );
  }
  if (
    maxOf(
      points.map((s) => s.time),
      start,
    ) -
      start >
    RANGES.seconds.max * 1000
  ) {
    throw new FormatError(FORMAT, 'unencodable', 'the activity is longer than 100 days');
  }
  const total: ActivityStats = {
    // From every merged sample, marker-only ones included: they carry the pauses that timer time subtracts.
    ...mergeMissingStats(activity.stats, statsFromSamples(laps.flatMap((l) => l.samples))),
    elapsedTime: activity.stats.elapsedTime ?? (activity.end - start) / 1000,
  };
  const device = activity.device;
  return writeXml('pwx', {
    '@_version': '1.0',
    '@_creator': 'Tributary',
    '@_xmlns': PWX_NS,
    '@_xmlns:xsi': XSI_NS,
    '@_xsi:schemaLocation': `${PWX_NS} http://www.peaksware.com/PWX/1/0/pwx.xsd`,
    workout: {
      sportType: pwxSportFor(activity.type),
      title: activity.name,
      cmt: activity.notes,
      device: {
        '@_id': device?.serial,
        make: device?.manufacturer,
        model: device?.product ?? device?.name,
      },
      time: formatDateTime(start, activity.naive === true),
      summarydata: encodeSummary(total, 0, onFoot),
      segment: laps.map(({ lap, samples }) => ({
        summarydata: encodeSummary(lapStats(lap, samples), (lap.start - start) / 1000, onFoot),
      })),
      sample: points.map((s) => encodeSample(s, start, onFoot)),
    },
  });
}

function encodeSummary(stats: ActivityStats, beginning: number, onFoot: boolean): XmlTree {
  const duration = stats.elapsedTime ?? 0;
  const stopped = stats.timerTime === undefined ? undefined : Math.max(0, duration - stats.timerTime);
  const cadence = onFoot ? halve(stats.runCadence) : stats.cadence;
  return {
    beginning: formatDecimal(requiredAmount(beginning, RANGES.seconds), 3),
    duration: formatDecimal(requiredAmount(duration, RANGES.seconds), 3),
    durationstopped: decimalText(stopped, 3, RANGES.seconds),
    hr: minMaxAvg(stats.heartRate, RANGES.heartRate),
    spd: minMaxAvg(stats.speed, RANGES.speed),
    pwr: minMaxAvg(stats.power, PWX_POWER),
    cad: minMaxAvg(cadence, RANGES.cadence),
    dist: decimalText(stats.distance, 2, RANGES.distance),
    alt: minMaxAvg(
      stats.elevation === undefined ? undefined : { min: stats.elevation.min, max: stats.elevation.max },
      RANGES.altitude,
    ),
    temp: minMaxAvg(stats.temperature, RANGES.temperature),
    climbingelevation: decimalText(stats.elevation?.gain, 2, RANGES.distance),
    descendingelevation: decimalText(stats.elevation?.loss, 2, RANGES.distance),
  };
}

function halve(v: { avg?: number; min?: number; max?: number } | undefined) {
  if (v === undefined) return undefined;
  return {
    avg: v.avg === undefined ? undefined : v.avg / 2,
    min: v.min === undefined ? undefined : v.min / 2,
    max: v.max === undefined ? undefined : v.max / 2,
  };
}

function minMaxAvg(v: { avg?: number; min?: number; max?: number } | undefined, range: Range): XmlTree | undefined {
  if (v === undefined) return undefined;
  const out: XmlTree = {
    '@_max': decimalText(v.max, 3, range),
    '@_min': decimalText(v.min, 3, range),
    '@_avg': decimalText(v.avg, 3, range),
  };
  return Object.values(out).some((x) => x !== undefined) ? out : undefined;
}

function encodeSample(s: Sample, start: number, onFoot: boolean): XmlTree {
  const half = s.runCadence === undefined ? undefined : s.runCadence / 2;
  const cad = onFoot ? (half ?? s.cadence) : (s.cadence ?? half);
  const hasPosition = s.lat !== undefined && s.lon !== undefined && Math.abs(s.lat) <= 90 && Math.abs(s.lon) <= 180;
  return {
    timeoffset: formatDecimal((s.time - start) / 1000, 3),
    hr: text(integerWithin(s.heartRate, 0, 255)),
    spd: decimalText(s.speed, 3, RANGES.speed),
    pwr: text(integerWithin(s.power, 0, PWX_POWER.max)),
    cad: text(integerWithin(cad, 0, 255)),
    dist: decimalText(s.distance, 2, RANGES.distance),
    lat: hasPosition ? formatDecimal(s.lat!, 8) : undefined,
    lon: hasPosition ? formatDecimal(s.lon!, 8) : undefined,
    alt: decimalText(s.altitude, 2, RANGES.altitude),
    temp: decimalText(s.temperature, 2, RANGES.temperature),
  };
}

function text(value: number | undefined): string | undefined {
  return value === undefined ? undefined : String(value);
}
