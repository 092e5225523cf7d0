import { Decoder, Stream } from '@garmin/fitsdk';
import {
  type FitDevice,
  type FitEvent,
  type FitFileMessages,
  type FitRecord,
  type FitSummary,
} from './fit-messages.types';

export const FIT_EPOCH_MS = 631_065_600_000;
const SEMICIRCLE_TO_DEG = 180 / 2 ** 31;

type Raw = Record<string, unknown>;

/** Bound once: called per field of every record, and a global lookup is slow inside a vm context (jest). */
const isFiniteNumber = Number.isFinite;
const JsDate = Date;

export function num(v: unknown): number | undefined {
  if (typeof v === 'number' && isFiniteNumber(v)) return v;
  if (v instanceof JsDate) {
    const t = v.getTime();
    return isFiniteNumber(t) ? t : undefined;
  }
  return undefined;
}

export function enumValue(v: unknown): string | number | undefined {
  return typeof v === 'string' || (typeof v === 'number' && isFiniteNumber(v)) ? v : undefined;
}

function time(v: unknown): number | undefined {
  return v instanceof JsDate ? num(v) : undefined;
}

function semicircles(v: unknown): number | undefined {
  const n = num(v);
  return n === undefined ? undefined : n * SEMICIRCLE_TO_DEG;
}

function list(v: unknown): Raw[] {
  return Array.isArray(v) ? (v.filter((m) => typeof m === 'object' && m !== null) as Raw[]) : [];
}

export function summaryFrom(
  m: Raw,
  get: (m: Raw, camel: string) => unknown,
  timeOf: (v: unknown) => number | undefined,
): FitSummary {
  const n = (k: string) => num(get(m, k));
  return {
    startTime: timeOf(get(m, 'startTime')),
    timestamp: timeOf(get(m, 'timestamp')),
    totalElapsedTime: n('totalElapsedTime'),
    totalTimerTime: n('totalTimerTime'),
    totalMovingTime: n('totalMovingTime'),
    totalDistance: n('totalDistance'),
    totalCalories: n('totalCalories'),
    totalAscent: n('totalAscent'),
    totalDescent: n('totalDescent'),
    totalStrides: n('totalStrides'),
    avgSpeed: n('enhancedAvgSpeed') ?? n('avgSpeed'),
    maxSpeed: n('enhancedMaxSpeed') ?? n('maxSpeed'),
    avgHeartRate: n('avgHeartRate'),
    maxHeartRate: n('maxHeartRate'),
    minHeartRate: n('minHeartRate'),
    avgCadence: n('avgCadence'),
    maxCadence: n('maxCadence'),
    avgFractionalCadence: n('avgFractionalCadence'),
    maxFractionalCadence: n('maxFractionalCadence'),
    avgPower: n('avgPower'),
    maxPower: n('maxPower'),
    avgTemperature: n('avgTemperature'),
    maxTemperature: n('maxTemperature'),
    minTemperature: n('minTemperature'),
    avgAltitude: n('enhancedAvgAltitude') ?? n('avgAltitude'),
    maxAltitude: n('enhancedMaxAltitude') ?? n('maxAltitude'),
    minAltitude: n('enhancedMinAltitude') ?? n('minAltitude'),
    sport: enumValue(get(m, 'sport')),
    subSport: enumValue(get(m, 'subSport')),
    trigger: enumValue(get(m, 'lapTrigger')),
    intensity: enumValue(get(m, 'intensity')),
    firstLapIndex: n('firstLapIndex'),
    numLaps: n('numLaps'),
  };
}

export function deviceFrom(m: Raw, get: (m: Raw, camel: string) => unknown): FitDevice {
  const productName = get(m, 'productName');
  return {
    manufacturer: enumValue(get(m, 'manufacturer')),
    product: num(get(m, 'product')),
    productName: typeof productName === 'string' ? productName : undefined,
    garminProduct: enumValue(get(m, 'garminProduct')),
    serialNumber: num(get(m, 'serialNumber')),
    softwareVersion: num(get(m, 'softwareVersion')),
    hardwareVersion: num(get(m, 'hardwareVersion')),
    deviceIndex: enumValue(get(m, 'deviceIndex')),
  };
}

const byKey = (m: Raw, k: string): unknown => m[k];

/**
 * Reads a FIT file with the Garmin SDK. The SDK never throws from read(): problems come back in `errors` together
 * with whatever was decoded before them. `mergeHeartRates` is off so record heart rates stay as the device wrote
 * them (merging `hr` messages rewrites most of them).
 */
export function readFitWithSdk(bytes: Uint8Array): FitFileMessages {
  let read: ReturnType<Decoder['read']>;
  try {
    read = new Decoder(Stream.fromByteArray(bytes)).read({ mergeHeartRates: false, includeUnknownData: false });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { decoder: 'garmin-sdk', devices: [], records: [], laps: [], sessions: [], events: [], errors: [message] };
  }
  const hasHrMesgs = (read.messages as { hrMesgs?: unknown[] }).hrMesgs?.length ?? 0;
  if (hasHrMesgs > 0 && !read.messages.recordMesgs?.some((r) => r.heartRate !== undefined)) {
    // Pool swims with an HRM-Swim/Tri strap log heart rate only in `hr` messages; merging fills the empty records.
    // Merging is not used otherwise because it overwrites the heart rates the device already put in records.
    try {
      read = new Decoder(Stream.fromByteArray(bytes)).read({ mergeHeartRates: true, includeUnknownData: false });
    } catch {
      // keep the unmerged read
    }
  }
  const { messages, errors } = read;
  const raw = messages as unknown as Record<string, unknown>;
  const records: FitRecord[] = [];
  for (const r of list(raw.recordMesgs)) {
    const t = time(r.timestamp);
    if (t === undefined) continue;
    records.push({
      time: t,
      lat: semicircles(r.positionLat),
      lon: semicircles(r.positionLong),
      altitude: num(r.enhancedAltitude) ?? num(r.altitude),
      distance: num(r.distance),
      speed: num(r.enhancedSpeed) ?? num(r.speed),
      heartRate: num(r.heartRate),
      cadence: num(r.cadence),
      fractionalCadence: num(r.fractionalCadence),
      power: num(r.power),
      temperature: num(r.temperature),
      calories: num(r.calories),
    });
  }
  const events: FitEvent[] = [];
  for (const e of list(raw.eventMesgs)) {
    const t = time(e.timestamp);
    if (t !== undefined) events.push({ time: t, event: enumValue(e.event), eventType: enumValue(e.eventType) });
  }
  const fileIdRaw = list(raw.fileIdMesgs)[0];
  const activityRaw = list(raw.activityMesgs)[0];
  const localTs = activityRaw ? num(activityRaw.localTimestamp) : undefined;
  const errorTexts = errors.map((e) => (e instanceof Error ? e.message : String(e)));
  const offsetMatch = errorTexts.map((t) => /at byte (\d+)/.exec(t)).find((m) => m !== null);
  return {
    decoder: 'garmin-sdk',
    fileId: fileIdRaw
      ? {
          ...deviceFrom(fileIdRaw, byKey),
          timeCreated: time(fileIdRaw.timeCreated),
          type: enumValue(fileIdRaw.type),
        }
      : undefined,
    devices: list(raw.deviceInfoMesgs).map((d) => deviceFrom(d, byKey)),
    records,
    laps: list(raw.lapMesgs).map((l) => summaryFrom(l, byKey, time)),
    sessions: list(raw.sessionMesgs).map((s) => summaryFrom(s, byKey, time)),
    events,
    activity: activityRaw
      ? {
          timestamp: time(activityRaw.timestamp),
          // The SDK leaves local_date_time as FIT seconds; read it as a wall clock in epoch ms.
          localTimestamp: localTs === undefined ? undefined : FIT_EPOCH_MS + localTs * 1000,
        }
      : undefined,
    errors: errorTexts,
    errorOffset: offsetMatch ? Number(offsetMatch[1]) : undefined,
  };
}

/** Header check and integrity (header size, `.FIT`, size and CRC) without decoding. */
export function fitIntegrity(bytes: Uint8Array): { isFit: boolean; intact: boolean } {
  try {
    const isFit = Decoder.isFIT(Stream.fromByteArray(bytes));
    if (!isFit) return { isFit, intact: false };
    return { isFit, intact: new Decoder(Stream.fromByteArray(bytes)).checkIntegrity() };
  } catch {
    return { isFit: false, intact: false };
  }
}
