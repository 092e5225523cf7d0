import { Encoder, Profile } from '@garmin/fitsdk';
import {
  fillMissingStats,
  hasMeasurement,
  isMultisport,
  splitMultisport,
  type Activity,
  type ActivityStats,
  type ActivityType,
  type Lap,
  type Sample,
} from '@tributary/activity';
import { FormatError } from '../format.error';
import { FIT_INTENSITIES, FIT_LAP_TRIGGERS } from './fit-lap.util';
import { FIT_EPOCH_MS } from './fit-sdk.decoder';
import { fitSportFor, usesRunCadence } from './fit-sport.util';

const DEG_TO_SEMICIRCLE = 2 ** 31 / 180;
/** The developer manufacturer id: what tapiriik wrote when the source device was unknown. */
const DEFAULT_MANUFACTURER = 'development';

type Fields = Record<string, unknown>;

/** Bound once: called per field of every record written, and a global lookup is slow inside a vm context (jest). */
const isFiniteNumber = Number.isFinite;
const { round, floor } = Math;

/** A value only when it fits the field (below the type's invalid sentinel); otherwise the field is left out. */
function within(v: number | undefined, lo: number, hi: number, rounded = true): number | undefined {
  if (v === undefined || !isFiniteNumber(v)) return undefined;
  const r = rounded ? round(v) : v;
  return r >= lo && r <= hi ? r : undefined;
}

const uint8 = (v: number | undefined) => within(v, 0, 254);
const uint16 = (v: number | undefined) => within(v, 0, 65534);
/** Scaled uint32 fields: distance /100, speed /1000, time /1000. */
const scaled32 = (v: number | undefined, scale: number) => within(v, 0, 4294967294 / scale, false);

function fitDate(ms: number): Date {
  return new Date(round(ms / 1000) * 1000);
}

function compact(fields: Fields): Fields {
  // A plain loop: this runs once per record, and Object.entries/fromEntries here showed up in profiles.
  const out: Fields = {};
  for (const key in fields) {
    const v = fields[key];
    if (v !== undefined) out[key] = v;
  }
  return out;
}

function manufacturerOf(activity: Activity): string | number {
  const names = Profile.types.manufacturer as Record<string, string>;
  const m = activity.device?.manufacturer;
  if (m !== undefined && Object.values(names).includes(m)) return m;
  const id = activity.device?.manufacturerId;
  if (id !== undefined && names[String(id)] !== undefined) return id;
  return DEFAULT_MANUFACTURER;
}

function serialOf(activity: Activity): number | undefined {
  const s = activity.device?.serial;
  if (s === undefined || !/^\d{1,10}$/.test(s)) return undefined;
  const n = Number(s);
  return n > 0 && n < 0xffffffff ? n : undefined;
}

function cadenceFields(avg: number | undefined, max: number | undefined, run: boolean): Fields {
  const split = (v: number | undefined) => {
    if (v === undefined || !Number.isFinite(v) || v < 0) return [undefined, undefined] as const;
    const perLeg = run ? v / 2 : v;
    const whole = Math.floor(perLeg);
    return [uint8(whole), Math.round((perLeg - whole) * 128) / 128] as const;
  };
  const [a, af] = split(avg);
  const [m, mf] = split(max);
  return {
    avgCadence: a,
    avgFractionalCadence: a === undefined ? undefined : af,
    maxCadence: m,
    maxFractionalCadence: m === undefined ? undefined : mf,
  };
}

function summaryFields(stats: ActivityStats, type: ActivityType, start: number, end: number): Fields {
  const run = usesRunCadence(type);
  const cad = run ? stats.runCadence : stats.cadence;
  const { sport, subSport } = fitSportFor(type);
  return {
    timestamp: fitDate(end),
    startTime: fitDate(start),
    totalElapsedTime: scaled32(stats.elapsedTime ?? (end - start) / 1000, 1000),
    totalTimerTime: scaled32(stats.timerTime ?? (end - start) / 1000, 1000),
    totalMovingTime: scaled32(stats.movingTime, 1000),
    totalDistance: scaled32(stats.distance, 100),
    totalCalories: uint16(stats.energy),
    totalAscent: uint16(stats.elevation?.gain),
    totalDescent: uint16(stats.elevation?.loss),
    totalStrides: run ? scaled32(stats.strides, 1) : undefined,
    enhancedAvgSpeed: scaled32(stats.speed?.avg, 1000),
    enhancedMaxSpeed: scaled32(stats.speed?.max, 1000),
    avgHeartRate: uint8(stats.heartRate?.avg),
    maxHeartRate: uint8(stats.heartRate?.max),
    minHeartRate: uint8(stats.heartRate?.min),
    ...cadenceFields(cad?.avg, cad?.max, run),
    avgPower: uint16(stats.power?.avg),
    maxPower: uint16(stats.power?.max),
    avgTemperature: within(stats.temperature?.avg, -127, 127),
    maxTemperature: within(stats.temperature?.max, -127, 127),
    minTemperature: within(stats.temperature?.min, -127, 127),
    enhancedAvgAltitude: within(stats.elevation?.avg, -500, 8000000, false),
    enhancedMaxAltitude: within(stats.elevation?.max, -500, 8000000, false),
    enhancedMinAltitude: within(stats.elevation?.min, -500, 8000000, false),
    sport,
    subSport,
  };
}

function recordFields(s: Sample): Fields {
  const run = s.runCadence !== undefined && s.cadence === undefined;
  const cadence = run ? s.runCadence! / 2 : s.cadence;
  const whole = cadence !== undefined && isFiniteNumber(cadence) && cadence >= 0 ? floor(cadence) : undefined;
  const hasPos = s.lat !== undefined && s.lon !== undefined && isFiniteNumber(s.lat) && isFiniteNumber(s.lon);
  return compact({
    timestamp: fitDate(s.time),
    positionLat: hasPos ? within(s.lat! * DEG_TO_SEMICIRCLE, -2147483647, 2147483646) : undefined,
    positionLong: hasPos ? within(s.lon! * DEG_TO_SEMICIRCLE, -2147483647, 2147483646) : undefined,
    enhancedAltitude: within(s.altitude, -500, 8000000, false),
    distance: scaled32(s.distance, 100),
    enhancedSpeed: scaled32(s.speed, 1000),
    heartRate: uint8(s.heartRate),
    cadence: uint8(whole),
    fractionalCadence:
      whole !== undefined && uint8(whole) !== undefined ? round((cadence! - whole) * 128) / 128 : undefined,
    power: uint16(s.power),
    temperature: within(s.temperature, -127, 127),
    calories: uint16(s.calories),
  });
}

const RECORD_FIELDS = new Set([
  'timestamp',
  'positionLat',
  'positionLong',
  'enhancedAltitude',
  'distance',
  'enhancedSpeed',
  'heartRate',
  'cadence',
  'fractionalCadence',
  'power',
  'temperature',
  'calories',
]);

/**
 * Runs `fn` with the SDK's record profile narrowed to the fields we write. The SDK's Encoder looks every field of
 * every message up with a linear scan over all ~85 record fields (Object.entries per field), which made encoding a
 * 24k-record file take seconds; the narrowed profile gives identical bytes for those fields. Encoding is
 * synchronous, so nothing else can observe the swap, and it is always restored.
 */
function withNarrowRecordProfile<T>(fn: () => T): T {
  const messages = Profile.messages as Record<number, { fields: Record<string, { name: string }> }>;
  const recordNum = Profile.MesgNum.RECORD!;
  const full = messages[recordNum]!;
  const fields = Object.fromEntries(Object.entries(full.fields).filter(([, f]) => RECORD_FIELDS.has(f.name)));
  messages[recordNum] = { ...full, fields };
  try {
    return fn();
  } finally {
    messages[recordNum] = full;
  }
}

/**
 * Writes an Activity file: file_id, device_info (creator), a timer start event, records with timer stop/start
 * events at pauses, laps and sessions each written right after the data they summarise (summary-last, in time
 * order), one session per multisport leg, and the activity message with local_timestamp when the offset is known.
 */
export function activityToFit(input: Activity): Uint8Array {
  return withNarrowRecordProfile(() => writeActivity(input));
}

function writeActivity(input: Activity): Uint8Array {
  if (!Number.isFinite(input.start) || !Number.isFinite(input.end) || input.end < input.start) {
    throw new FormatError('fit', 'unencodable', 'The activity has no valid start and end time.');
  }
  if (input.start < FIT_EPOCH_MS) {
    throw new FormatError('fit', 'unencodable', 'FIT cannot hold times before 1989-12-31.');
  }
  const activity = fillMissingStats(input);
  const samples = activity.samples
    .map((s, i) => ({ s, i }))
    .sort((a, b) => a.s.time - b.s.time || a.i - b.i)
    .map((x) => x.s);
  const laps: Lap[] =
    activity.laps.length > 0
      ? [...activity.laps].sort((a, b) => a.start - b.start)
      : [{ start: activity.start, end: activity.end, trigger: 'session_end', stats: activity.stats }];
  const multisport = isMultisport(activity) && laps.some((l) => l.sport !== undefined);
  const legs = multisport ? splitMultisport({ ...activity, laps }) : [{ ...activity, laps }];

  const encoder = new Encoder();
  const write = (mesgNum: number | undefined, fields: Fields) => {
    try {
      encoder.writeMesg({ mesgNum, ...compact(fields) } as Parameters<Encoder['writeMesg']>[0]);
    } catch (err) {
      throw new FormatError('fit', 'unencodable', `The FIT encoder rejected a message (${String(mesgNum)}).`, err);
    }
  };
  const manufacturer = manufacturerOf(activity);
  const product = activity.device?.productId;
  const serialNumber = serialOf(activity);
  write(Profile.MesgNum.FILE_ID, {
    type: 'activity',
    manufacturer,
    product,
    serialNumber,
    timeCreated: fitDate(activity.start),
  });
  const sw = activity.device?.softwareVersion === undefined ? undefined : Number(activity.device.softwareVersion);
  const hw = activity.device?.hardwareVersion === undefined ? undefined : Number(activity.device.hardwareVersion);
  write(Profile.MesgNum.DEVICE_INFO, {
    timestamp: fitDate(activity.start),
    deviceIndex: 'creator',
    manufacturer,
    product,
    serialNumber,
    softwareVersion: sw !== undefined && Number.isFinite(sw) && sw >= 0 && sw < 655 ? sw : undefined,
    hardwareVersion: hw !== undefined && Number.isFinite(hw) ? uint8(hw) : undefined,
    productName: activity.device?.name?.slice(0, 40),
  });

  const timerEvent = (time: number, eventType: 'start' | 'stopAll') =>
    write(Profile.MesgNum.EVENT, { timestamp: fitDate(time), event: 'timer', eventType, eventGroup: 0 });
  if (!samples.some((s) => s.marker === 'start'))
    timerEvent(Math.min(activity.start, samples[0]?.time ?? Infinity), 'start');

  // Laps and sessions go out once the records have passed their end, so every message stays in time order.
  const lapIndex = new Map(laps.map((l, i) => [l, i]));
  let nextLap = 0;
  let nextLeg = 0;
  let sessionCount = 0;
  const flushSummaries = (upTo: number) => {
    while (nextLap < laps.length && laps[nextLap]!.end < upTo) {
      const lap = laps[nextLap]!;
      const lapType = lap.sport ?? activity.type;
      write(Profile.MesgNum.LAP, {
        messageIndex: nextLap,
        event: 'lap',
        eventType: 'stop',
        ...summaryFields(lap.stats, lapType, lap.start, lap.end),
        totalElapsedTime: scaled32((lap.end - lap.start) / 1000, 1000),
        lapTrigger: lap.trigger === undefined ? undefined : FIT_LAP_TRIGGERS[lap.trigger],
        intensity: lap.intensity === undefined ? undefined : FIT_INTENSITIES[lap.intensity],
      });
      nextLap += 1;
      const leg = legs[nextLeg];
      if (leg && nextLap > (lapIndex.get(leg.laps[leg.laps.length - 1]!) ?? Infinity)) {
        const firstLapIndex = lapIndex.get(leg.laps[0]!) ?? 0;
        const legStart = nextLeg === 0 ? Math.min(activity.start, leg.start) : leg.start;
        const legEnd = nextLeg === legs.length - 1 ? Math.max(activity.end, leg.end) : leg.end;
        write(Profile.MesgNum.SESSION, {
          messageIndex: nextLeg,
          event: 'session',
          eventType: 'stop',
          trigger: 'activityEnd',
          ...summaryFields(leg.stats, leg.type, legStart, legEnd),
          firstLapIndex,
          numLaps: leg.laps.length,
        });
        sessionCount += 1;
        nextLeg += 1;
      }
    }
  };

  for (const s of samples) {
    flushSummaries(s.time);
    if (s.marker === 'start' || s.marker === 'resume') timerEvent(s.time, 'start');
    // A sample with only a time is still a record (the device logged one); a marker-only sample is just the event.
    if (hasMeasurement(s) || s.marker === undefined) write(Profile.MesgNum.RECORD, recordFields(s));
    if (s.marker === 'pause' || s.marker === 'end') timerEvent(s.time, 'stopAll');
  }
  if (!samples.some((s) => s.marker === 'end'))
    timerEvent(Math.max(activity.end, samples[samples.length - 1]?.time ?? -Infinity), 'stopAll');
  flushSummaries(Infinity);

  const activityFields: Fields = {
    timestamp: fitDate(activity.end),
    totalTimerTime: scaled32(activity.stats.timerTime ?? (activity.end - activity.start) / 1000, 1000),
    numSessions: sessionCount,
    type: 'manual',
    event: 'activity',
    eventType: 'stop',
  };
  if (activity.utcOffsetHint !== undefined) {
    activityFields.localTimestamp = Math.round(activity.end / 1000) - FIT_EPOCH_MS / 1000 + activity.utcOffsetHint * 60;
  }
  write(Profile.MesgNum.ACTIVITY, activityFields);
  try {
    return encoder.close();
  } catch (err) {
    throw new FormatError('fit', 'unencodable', 'The FIT encoder rejected the activity.', err);
  }
}
