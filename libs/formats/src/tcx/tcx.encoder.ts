import { type Activity, type ActivityType, type Device, type Lap, type Sample, ancestry } from '@tributary/activity';
import {
  type LapWithSamples,
  assertEncodable,
  assignSamplesToLaps,
  lapStats,
  splitAtPauses,
} from '../xml/activity-stats.util';
import {
  RANGES,
  decimalText,
  formatDateTime,
  formatDecimal,
  integerWithin,
  longitudeText,
  requiredAmount,
} from '../xml/xml-values.util';
import { type XmlTree, writeXml } from '../xml/xml-writer.util';

/*
 * Activity → TCX, valid against TrainingCenterDatabasev2.xsd + ActivityExtensionv2.xsd (element order follows the
 * XSD sequences).
 *
 * - One sport: one <Activity>. Laps of different sports (lap.sport): one <MultiSportSession> with a leg per run of
 *   same-sport laps; a single 'transition' lap between two legs becomes that NextSport's <Transition>.
 * - Pauses ('pause'/'resume' markers) split a lap into several <Track>s.
 * - Required lap fields are always written: a missing Calories is 0 (as tapiriik did), a missing distance is
 *   computed from the lap's points, TotalTimeSeconds is timer time (elapsed when unknown).
 * - Values the schema cannot hold are left out: HR 0 or > 255, cadence > 254, negative or > 65535 W, and anything
 *   NaN, infinite or outside the decoders' plausibility ranges. Longitude 180 is written as -180 (the XSD excludes
 *   180). Samples sharing a timestamp are merged into one Trackpoint.
 * - Cannot be carried (lost): temperature, per-sample calories, the precise type (only Running/Biking/Other),
 *   lap intensities other than Active/Resting, triggers other than Manual/Distance/Location/Time, device
 *   manufacturer/hardware version, odd run cadences (TCX holds one foot: steps/min ÷ 2, rounded).
 */

const TCD_NS = 'http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2';
const AX_NS = 'http://www.garmin.com/xmlschemas/ActivityExtension/v2';
const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';
const FORMAT = 'tcx';

type TcxSport = 'Running' | 'Biking' | 'Other';

export function tcxSportFor(type: ActivityType): TcxSport {
  const chain = ancestry(type);
  if (chain.includes('running')) return 'Running';
  if (chain.includes('cycling')) return 'Biking';
  return 'Other';
}

export function encodeTcx(activity: Activity): Uint8Array {
  assertEncodable(activity, FORMAT);
  const naive = activity.naive === true;
  const laps = assignSamplesToLaps(activity);
  const legs = groupLegs(laps, activity.type);
  const notes = composeNotes(activity);
  const creator = encodeCreator(activity.device);

  const activities: XmlTree = {};
  if (legs.length === 1) {
    activities.Activity = [encodeActivity(legs[0]!, naive, notes, creator)];
  } else {
    const [first, ...rest] = legs;
    const nextSports: XmlTree[] = [];
    let pendingTransition: LapWithSamples | undefined;
    rest.forEach((leg) => {
      if (isTransitionLeg(leg) && pendingTransition === undefined && leg !== rest[rest.length - 1]) {
        pendingTransition = leg.laps[0];
        return;
      }
      nextSports.push({
        Transition: pendingTransition === undefined ? undefined : encodeLap(pendingTransition, naive),
        Activity: encodeActivity(leg, naive, undefined, creator),
      });
      pendingTransition = undefined;
    });
    activities.MultiSportSession = [
      {
        Id: formatDateTime(activity.start, naive),
        FirstSport: { Activity: encodeActivity(first!, naive, undefined, creator) },
        NextSport: nextSports,
        Notes: notes,
      },
    ];
  }
  return writeXml('TrainingCenterDatabase', {
    '@_xmlns': TCD_NS,
    '@_xmlns:ns3': AX_NS,
    '@_xmlns:xsi': XSI_NS,
    '@_xsi:schemaLocation': `${TCD_NS} http://www.garmin.com/xmlschemas/TrainingCenterDatabasev2.xsd ${AX_NS} http://www.garmin.com/xmlschemas/ActivityExtensionv2.xsd`,
    Activities: activities,
  });
}

interface Leg {
  sport: ActivityType;
  laps: LapWithSamples[];
}

function groupLegs(laps: LapWithSamples[], type: ActivityType): Leg[] {
  const legs: Leg[] = [];
  for (const entry of laps) {
    const sport = entry.lap.sport ?? type;
    const last = legs[legs.length - 1];
    // Consecutive legs that TCX would write with the same Sport stay one leg, except transitions.
    if (last !== undefined && last.sport === sport) last.laps.push(entry);
    else legs.push({ sport, laps: [entry] });
  }
  return legs;
}

function isTransitionLeg(leg: Leg): boolean {
  return leg.sport === 'transition' && leg.laps.length === 1;
}

function encodeActivity(leg: Leg, naive: boolean, notes: string | undefined, creator: XmlTree | undefined): XmlTree {
  return {
    '@_Sport': tcxSportFor(leg.sport),
    Id: formatDateTime(leg.laps[0]!.lap.start, naive),
    Lap: leg.laps.map((entry) => encodeLap(entry, naive)),
    Notes: notes,
    Creator: creator,
  };
}

function encodeLap({ lap, samples }: LapWithSamples, naive: boolean): XmlTree {
  const stats = lapStats(lap, samples);
  const timer = stats.timerTime ?? stats.elapsedTime ?? 0;
  const hrAvg = integerWithin(stats.heartRate?.avg, 1, 255);
  const hrMax = integerWithin(stats.heartRate?.max, 1, 255);
  const lx: XmlTree = {
    'ns3:AvgSpeed': decimalText(stats.speed?.avg, 3, RANGES.speed),
    'ns3:MaxBikeCadence': int(stats.cadence?.max, 0, 254),
    'ns3:AvgRunCadence': int(half(stats.runCadence?.avg), 0, 254),
    'ns3:MaxRunCadence': int(half(stats.runCadence?.max), 0, 254),
    'ns3:Steps': int(stats.strides, 0, 65535),
    'ns3:AvgWatts': int(stats.power?.avg, 0, 65535),
    'ns3:MaxWatts': int(stats.power?.max, 0, 65535),
  };
  const hasLx = Object.values(lx).some((v) => v !== undefined);
  return {
    '@_StartTime': formatDateTime(lap.start, naive),
    TotalTimeSeconds: formatDecimal(requiredAmount(timer, RANGES.seconds), 3),
    DistanceMeters: formatDecimal(requiredAmount(stats.distance, RANGES.distance), 2),
    MaximumSpeed: decimalText(stats.speed?.max, 3, RANGES.speed),
    Calories: String(integerWithin(stats.energy, 0, 65535) ?? 0),
    AverageHeartRateBpm: hrAvg === undefined ? undefined : { Value: String(hrAvg) },
    MaximumHeartRateBpm: hrMax === undefined ? undefined : { Value: String(hrMax) },
    Intensity: lap.intensity === 'rest' || lap.intensity === 'recovery' ? 'Resting' : 'Active',
    Cadence: int(stats.cadence?.avg, 0, 254),
    TriggerMethod: triggerToTcx(lap),
    Track: splitAtPauses(samples).map((run) => ({ Trackpoint: run.map((s) => encodeTrackpoint(s, naive)) })),
    Extensions: hasLx ? { 'ns3:LX': lx } : undefined,
  };
}

function triggerToTcx(lap: Lap): string {
  switch (lap.trigger) {
    case 'distance':
      return 'Distance';
    case 'time':
      return 'Time';
    case 'position_start':
    case 'position_lap':
    case 'position_waypoint':
    case 'position_marked':
      return 'Location';
    case 'manual':
    case 'session_end':
    case 'fitness_equipment':
    case undefined:
      return 'Manual';
  }
}

function encodeTrackpoint(s: Sample, naive: boolean): XmlTree {
  const hasPosition = s.lat !== undefined && s.lon !== undefined && Math.abs(s.lat) <= 90 && Math.abs(s.lon) <= 180;
  const hr = integerWithin(s.heartRate, 1, 255);
  const tpx: XmlTree = {
    'ns3:Speed': decimalText(s.speed, 3, RANGES.speed),
    'ns3:RunCadence': int(half(s.runCadence), 0, 254),
    'ns3:Watts': int(s.power, 0, 65535),
  };
  const hasTpx = Object.values(tpx).some((v) => v !== undefined);
  return {
    Time: formatDateTime(s.time, naive),
    Position: hasPosition
      ? { LatitudeDegrees: formatDecimal(s.lat!, 8), LongitudeDegrees: longitudeText(s.lon!) }
      : undefined,
    AltitudeMeters: decimalText(s.altitude, 2, RANGES.altitude),
    DistanceMeters: decimalText(s.distance, 2, RANGES.distance),
    HeartRateBpm: hr === undefined ? undefined : { Value: String(hr) },
    Cadence: int(s.cadence, 0, 254),
    Extensions: hasTpx ? { 'ns3:TPX': tpx } : undefined,
  };
}

function composeNotes(activity: Activity): string | undefined {
  const name = activity.name?.replace(/\s*[\r\n]+\s*/g, ' ').trim();
  const notes = activity.notes?.trim();
  if (!name && !notes) return undefined;
  return notes ? `${name ?? ''}\n${notes}` : name;
}

function encodeCreator(device: Device | undefined): XmlTree | undefined {
  const name = device?.name ?? device?.product ?? device?.manufacturer;
  if (device === undefined || name === undefined || name.trim() === '') return undefined;
  const serial = device.serial !== undefined && /^\d{1,10}$/.test(device.serial) ? Number(device.serial) : 0;
  const [major, minor] = parseVersion(device.softwareVersion);
  return {
    '@_xsi:type': 'Device_t',
    Name: name,
    UnitId: String(serial <= 0xffffffff ? serial : 0),
    ProductID: String(integerWithin(device.productId, 0, 65535) ?? 0),
    Version: { VersionMajor: String(major), VersionMinor: String(minor) },
  };
}

/** "5.30" → [5, 30]; "5.3" → [5, 30] (FIT software versions are hundredths); anything else → [0, 0]. */
function parseVersion(version: string | undefined): [number, number] {
  const m = version === undefined ? null : /^(\d{1,5})(?:\.(\d{1,2}))?/.exec(version.trim());
  if (m === null) return [0, 0];
  const major = Math.min(Number(m[1]), 65535);
  const minorText = m[2] ?? '0';
  return [major, minorText.length === 1 ? Number(minorText) * 10 : Number(minorText)];
}

function int(value: number | undefined, min: number, max: number): string | undefined {
  const n = integerWithin(value, min, max);
  return n === undefined ? undefined : String(n);
}

function half(value: number | undefined): number | undefined {
  return value === undefined ? undefined : value / 2;
}
