import FitParser from 'fit-file-parser';
import { type FitEvent, type FitFileMessages, type FitRecord } from './fit-messages.types';
import { deviceFrom, enumValue, num, summaryFrom } from './fit-sdk.decoder';

type Raw = Record<string, unknown>;

const snake = (camel: string): string => camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const camel = (s: string): string => s.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

/** fit-file-parser names fields and enum values in snake_case; the mapper speaks the SDK's camelCase. */
function get(m: Raw, key: string): unknown {
  const v = m[snake(key)];
  if (key === 'enhancedAvgAltitude' || key === 'enhancedMaxAltitude' || key === 'enhancedMinAltitude') {
    // fit-file-parser does not scale these (it reports 429000000 for 250 m): take only the legacy fields.
    return undefined;
  }
  if (key === 'messageIndex' && typeof v === 'object' && v !== null) return (v as Raw).value;
  return typeof v === 'string' && key !== 'productName' ? camel(v) : v;
}

function time(v: unknown): number | undefined {
  return v instanceof Date ? num(v) : undefined;
}

function list(v: unknown): Raw[] {
  return Array.isArray(v) ? (v.filter((m) => typeof m === 'object' && m !== null) as Raw[]) : [];
}

/**
 * Old devices (FR70) pack speed and distance into 3 bytes: 12 bits of speed in 1/100 m/s and 12 bits of distance
 * in 1/16 m that roll over every 256 m. fit-file-parser leaves the bytes as they are.
 */
function expandCompressedSpeedDistance(records: FitRecord[], raw: Raw[]): void {
  let total = 0;
  let last: number | undefined;
  raw.forEach((r, i) => {
    const csd = r.compressed_speed_distance;
    const rec = records[i];
    if (!rec || !Array.isArray(csd) || csd.length < 3) return;
    const [b0, b1, b2] = csd as number[];
    if (b0 === undefined || b1 === undefined || b2 === undefined) return;
    rec.speed ??= (b0 | ((b1 & 0x0f) << 8)) / 100;
    const d = (b1 >> 4) | (b2 << 4);
    if (last !== undefined) total += (d - last + 4096) % 4096;
    last = d;
    rec.distance ??= total / 16;
  });
}

/**
 * Reads a FIT file with fit-file-parser, the fallback for files the SDK cannot read (compressed timestamps, the
 * FR255 accumulated-field crash). Its `parse` runs synchronously; a callback that does not come back at once, a
 * thrown error, or an error string all count as failure. Its CRC check is off (`force`).
 */
export function readFitWithFitFileParser(bytes: Uint8Array): FitFileMessages {
  const parser = new FitParser({
    force: true,
    mode: 'list',
    speedUnit: 'm/s',
    lengthUnit: 'm',
    temperatureUnit: 'celsius',
  });
  let result: Raw | undefined;
  let error: string | undefined = 'fit-file-parser did not finish synchronously';
  try {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    parser.parse(buffer as Buffer<ArrayBuffer>, (err, data) => {
      error = err;
      result = data as unknown as Raw | undefined;
    });
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
  }
  if (error !== undefined || !result) {
    return {
      decoder: 'fit-file-parser',
      devices: [],
      records: [],
      laps: [],
      sessions: [],
      events: [],
      errors: [error ?? 'no data'],
    };
  }
  const rawRecords = list(result.records).filter((r) => time(r.timestamp) !== undefined);
  const records: FitRecord[] = rawRecords.map((r) => ({
    time: time(r.timestamp)!,
    lat: num(r.position_lat),
    lon: num(r.position_long),
    altitude: num(r.enhanced_altitude) ?? num(r.altitude),
    distance: num(r.distance),
    speed: num(r.enhanced_speed) ?? num(r.speed),
    heartRate: num(r.heart_rate),
    cadence: num(r.cadence),
    fractionalCadence: num(r.fractional_cadence),
    power: num(r.power),
    temperature: num(r.temperature),
    calories: num(r.calories),
  }));
  expandCompressedSpeedDistance(records, rawRecords);
  const events: FitEvent[] = [];
  for (const e of list(result.events)) {
    const t = time(e.timestamp);
    if (t !== undefined)
      events.push({ time: t, event: enumValue(get(e, 'event')), eventType: enumValue(get(e, 'eventType')) });
  }
  const fileIdRaw = list(result.file_ids)[0];
  const activityRaw =
    typeof result.activity === 'object' && result.activity !== null ? (result.activity as Raw) : undefined;
  return {
    decoder: 'fit-file-parser',
    fileId: fileIdRaw
      ? {
          ...deviceFrom(fileIdRaw, get),
          timeCreated: time(fileIdRaw.time_created),
          type: enumValue(get(fileIdRaw, 'type')),
        }
      : undefined,
    devices: list(result.device_infos).map((d) => deviceFrom(d, get)),
    records,
    laps: list(result.laps).map((l) => summaryFrom(l, get, time)),
    sessions: list(result.sessions).map((s) => summaryFrom(s, get, time)),
    events,
    activity: activityRaw
      ? // fit-file-parser turns local_timestamp into a Date "in UTC": its epoch ms are the local wall clock.
        { timestamp: time(activityRaw.timestamp), localTimestamp: time(activityRaw.local_timestamp) }
      : undefined,
    errors: [],
  };
}
