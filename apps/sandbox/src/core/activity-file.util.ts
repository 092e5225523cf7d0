import { gunzipSync } from 'node:zlib';
import { Decoder, Encoder, Stream } from '@garmin/fitsdk';
import { XMLParser } from 'fast-xml-parser';
import { PermanentError } from '@tributary/common';
import { SandboxInputError } from './sandbox.error';

/**
 * The simulators need only what a service derives from a file: start, duration, distance, sport and the sample
 * series (for Strava streams). This sandbox-private reader keeps the simulators independent of libs/formats, whose
 * decoders are what the contract tests check.
 */
export type SimFormat = 'fit' | 'tcx' | 'gpx';

export interface SimPoint {
  /** epoch ms */
  time: number;
  lat?: number;
  lon?: number;
  altitude?: number;
  /** cumulative metres */
  distance?: number;
  speed?: number;
  heartRate?: number;
  cadence?: number;
  power?: number;
  temperature?: number;
}

export interface SimTrack {
  /** epoch ms, UTC */
  start: number;
  /** seconds */
  elapsed: number;
  moving: number;
  /** metres */
  distance: number;
  /** Strava sport_type vocabulary, used as the simulators' common sport key. */
  sport: string;
  points: SimPoint[];
  deviceName?: string;
  manufacturer?: string;
}

export interface SimFile {
  format: SimFormat;
  bytes: Buffer;
  name: string;
}

/** The file could not be read the way the real service would refuse it. */
export class SimFileError extends PermanentError {
  constructor(message: string) {
    super('sandbox_bad_file', message);
  }
}

export function formatFromName(name: string): SimFormat | undefined {
  const m = /\.(fit|tcx|gpx)(\.gz)?$/i.exec(name);
  return m?.[1]?.toLowerCase() as SimFormat | undefined;
}

export function maybeGunzip(bytes: Buffer): Buffer {
  if (bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      return gunzipSync(bytes);
    } catch {
      throw new SimFileError('The file is not a valid gzip archive.');
    }
  }
  return bytes;
}

export function sniffFormat(bytes: Buffer): SimFormat | undefined {
  if (bytes.length >= 12 && bytes.subarray(8, 12).toString('latin1') === '.FIT') return 'fit';
  const head = bytes.subarray(0, 2048).toString('utf8');
  if (/<TrainingCenterDatabase/i.test(head)) return 'tcx';
  if (/<gpx[\s>]/i.test(head)) return 'gpx';
  return undefined;
}

export function decodeTrack(raw: Buffer, format?: SimFormat): SimTrack {
  const bytes = maybeGunzip(raw);
  const fmt = format ?? sniffFormat(bytes);
  switch (fmt) {
    case 'fit':
      return decodeFit(bytes);
    case 'tcx':
      return decodeTcx(bytes);
    case 'gpx':
      return decodeGpx(bytes);
    case undefined:
      throw new SimFileError('Unrecognized file type.');
  }
}

const FIT_SPORTS: Record<string, string> = {
  running: 'Run',
  cycling: 'Ride',
  swimming: 'Swim',
  walking: 'Walk',
  hiking: 'Hike',
  rowing: 'Rowing',
  training: 'Workout',
  crossCountrySkiing: 'NordicSki',
  alpineSkiing: 'AlpineSki',
  snowboarding: 'Snowboard',
  eBiking: 'EBikeRide',
  standUpPaddleboarding: 'StandUpPaddling',
  kayaking: 'Kayaking',
};

function fitSport(sport: unknown, subSport: unknown): string {
  if (sport === 'cycling' && (subSport === 'mountain' || subSport === 'downhill')) return 'MountainBikeRide';
  if (sport === 'cycling' && (subSport === 'virtualActivity' || subSport === 'indoorCycling')) return 'VirtualRide';
  if (sport === 'running' && subSport === 'trail') return 'TrailRun';
  return (typeof sport === 'string' ? FIT_SPORTS[sport] : undefined) ?? 'Workout';
}

const SEMICIRCLE = 180 / 2 ** 31;

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function decodeFit(bytes: Buffer): SimTrack {
  const stream = Stream.fromBuffer(bytes);
  if (!Decoder.isFIT(stream)) throw new SimFileError('The file is not a FIT file.');
  const decoder = new Decoder(stream);
  const { messages, errors } = decoder.read({ mergeHeartRates: false });
  const records = (messages.recordMesgs ?? []) as Record<string, unknown>[];
  const sessions = (messages.sessionMesgs ?? []) as Record<string, unknown>[];
  if (errors.length > 0 && records.length === 0) throw new SimFileError('Improperly formatted data.');
  const points: SimPoint[] = [];
  for (const r of records) {
    if (!(r.timestamp instanceof Date)) continue;
    const lat = num(r.positionLat);
    const lon = num(r.positionLong);
    points.push({
      time: r.timestamp.getTime(),
      lat: lat === undefined ? undefined : lat * SEMICIRCLE,
      lon: lon === undefined ? undefined : lon * SEMICIRCLE,
      altitude: num(r.enhancedAltitude) ?? num(r.altitude),
      distance: num(r.distance),
      speed: num(r.enhancedSpeed) ?? num(r.speed),
      heartRate: num(r.heartRate),
      cadence: num(r.cadence),
      power: num(r.power),
      temperature: num(r.temperature),
    });
  }
  const session = sessions[0];
  const fileId = (messages.fileIdMesgs?.[0] ?? {}) as Record<string, unknown>;
  const sessionStart = session?.startTime instanceof Date ? session.startTime.getTime() : undefined;
  const start = sessionStart ?? points[0]?.time;
  if (start === undefined) throw new SimFileError('Time information is missing from file.');
  const sport = fitSport(session?.sport, session?.subSport);
  const elapsed = num(session?.totalElapsedTime) ?? spanSeconds(points);
  const track = finishTrack(start, sport, points, elapsed);
  if (sessions.length > 0) track.distance = num(session?.totalDistance) ?? track.distance;
  const moving = num(session?.totalTimerTime);
  if (moving !== undefined) track.moving = Math.round(moving);
  track.manufacturer = typeof fileId.manufacturer === 'string' ? fileId.manufacturer : undefined;
  const product = fileId.garminProduct ?? fileId.product;
  if (track.manufacturer !== undefined) {
    track.deviceName = `${capitalise(track.manufacturer)}${typeof product === 'string' || typeof product === 'number' ? ` ${product}` : ''}`;
  }
  return track;
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

const xml = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  removeNSPrefix: true,
  parseTagValue: true,
  isArray: (name) => ['Activity', 'Lap', 'Track', 'Trackpoint', 'trk', 'trkseg', 'trkpt'].includes(name),
});

function parseXml(bytes: Buffer): Record<string, unknown> {
  try {
    const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
    return xml.parse(text, true) as Record<string, unknown>;
  } catch {
    throw new SimFileError('Improperly formatted data.');
  }
}

function rec(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
}

function arr(v: unknown): Record<string, unknown>[] {
  return Array.isArray(v) ? (v as unknown[]).map(rec) : v === undefined ? [] : [rec(v)];
}

function numText(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  const inner = rec(v);
  return inner['#text'] !== undefined ? numText(inner['#text']) : undefined;
}

function timeText(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

const TCX_SPORTS: Record<string, string> = { running: 'Run', biking: 'Ride', other: 'Workout' };

function decodeTcx(bytes: Buffer): SimTrack {
  const doc = rec(parseXml(bytes).TrainingCenterDatabase);
  const activity = arr(rec(doc.Activities).Activity)[0];
  if (activity === undefined) throw new SimFileError('The file contains no activity.');
  const points: SimPoint[] = [];
  for (const lap of arr(activity.Lap)) {
    for (const track of arr(lap.Track)) {
      for (const tp of arr(track.Trackpoint)) {
        const time = timeText(tp.Time);
        if (time === undefined) continue;
        const pos = rec(tp.Position);
        const tpx = rec(rec(tp.Extensions).TPX);
        points.push({
          time,
          lat: numText(pos.LatitudeDegrees),
          lon: numText(pos.LongitudeDegrees),
          altitude: numText(tp.AltitudeMeters),
          distance: numText(tp.DistanceMeters),
          heartRate: numText(rec(tp.HeartRateBpm).Value),
          cadence: numText(tp.Cadence) ?? numText(tpx.RunCadence),
          speed: numText(tpx.Speed),
          power: numText(tpx.Watts),
        });
      }
    }
  }
  const start = timeText(activity.Id) ?? timeText(rec(arr(activity.Lap)[0])['@_StartTime']) ?? points[0]?.time;
  if (start === undefined) throw new SimFileError('Time information is missing from file.');
  const sportAttr = activity['@_Sport'];
  const sport = (typeof sportAttr === 'string' ? TCX_SPORTS[sportAttr.toLowerCase()] : undefined) ?? 'Workout';
  const track = finishTrack(start, sport, points);
  const creator = rec(activity.Creator);
  if (typeof creator.Name === 'string') track.deviceName = creator.Name;
  return track;
}

function gpxSport(type: unknown): string {
  const t = typeof type === 'string' ? type.toLowerCase() : '';
  if (/run/.test(t)) return 'Run';
  if (/bik|cycl|ride/.test(t)) return 'Ride';
  if (/hik/.test(t)) return 'Hike';
  if (/walk/.test(t)) return 'Walk';
  if (/swim/.test(t)) return 'Swim';
  return 'Workout';
}

function decodeGpx(bytes: Buffer): SimTrack {
  const gpx = rec(parseXml(bytes).gpx);
  const trk = arr(gpx.trk)[0];
  const points: SimPoint[] = [];
  for (const seg of arr(trk?.trkseg)) {
    for (const pt of arr(seg.trkpt)) {
      const time = timeText(pt.time);
      if (time === undefined) continue;
      const ext = rec(rec(pt.extensions).TrackPointExtension);
      points.push({
        time,
        lat: numText(pt['@_lat']),
        lon: numText(pt['@_lon']),
        altitude: numText(pt.ele),
        heartRate: numText(ext.hr),
        cadence: numText(ext.cad),
        power: numText(rec(pt.extensions).power),
        temperature: numText(ext.atemp),
      });
    }
  }
  const start = points[0]?.time;
  if (start === undefined) throw new SimFileError('Time information is missing from file.');
  const track = finishTrack(start, gpxSport(trk?.type), points);
  if (typeof gpx['@_creator'] === 'string') track.deviceName = gpx['@_creator'];
  return track;
}

function spanSeconds(points: SimPoint[]): number {
  const first = points[0];
  const last = points[points.length - 1];
  return first === undefined || last === undefined ? 0 : (last.time - first.time) / 1000;
}

function haversine(a: SimPoint, b: SimPoint): number {
  if (a.lat === undefined || a.lon === undefined || b.lat === undefined || b.lon === undefined) return 0;
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6_371_000 * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Fills cumulative distance and speed where the file lacked them and computes totals. */
function finishTrack(start: number, sport: string, points: SimPoint[], elapsed?: number): SimTrack {
  let cumulative = 0;
  let moving = 0;
  for (let i = 0; i < points.length; i++) {
    const p = points[i] as SimPoint;
    const prev = points[i - 1];
    if (p.distance === undefined) {
      cumulative += prev === undefined ? 0 : haversine(prev, p);
      p.distance = cumulative;
    } else {
      cumulative = p.distance;
    }
    if (prev !== undefined) {
      const dt = (p.time - prev.time) / 1000;
      const dd = (p.distance ?? 0) - (prev.distance ?? 0);
      if (p.speed === undefined && dt > 0) p.speed = dd / dt;
      if (dt > 0 && dt <= 30 && dd / dt > 0.3) moving += dt;
    }
  }
  const distance = points.length > 0 ? (points[points.length - 1]?.distance ?? 0) : 0;
  const totalElapsed = Math.round(elapsed ?? spanSeconds(points));
  return { start, sport, points, distance, elapsed: totalElapsed, moving: Math.round(moving) || totalElapsed };
}

/** A synthetic activity described in JSON (control API), turned into samples and then into a file. */
export interface TrackSpec {
  start: number;
  durationSeconds: number;
  sport: string;
  distanceMeters: number;
  intervalSeconds: number;
  lat: number;
  lon: number;
  heartRate?: number;
  gps: boolean;
}

export function parseTrackSpec(input: Record<string, unknown>): TrackSpec {
  const start =
    typeof input.start === 'number' ? input.start : typeof input.start === 'string' ? Date.parse(input.start) : NaN;
  if (Number.isNaN(start)) throw new SandboxInputError('spec.start must be an ISO date string or epoch ms');
  const n = (key: string, fallback: number): number => {
    const v = input[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new SandboxInputError(`spec.${key} must be a non-negative number`);
    }
    return v;
  };
  const durationSeconds = Math.max(1, Math.round(n('durationSeconds', 1800)));
  const sport = typeof input.sport === 'string' ? input.sport : 'Run';
  return {
    start,
    durationSeconds,
    sport,
    distanceMeters: n('distanceMeters', sport.includes('Ride') ? durationSeconds * 7 : durationSeconds * 3),
    intervalSeconds: Math.max(1, Math.round(n('intervalSeconds', 10))),
    lat: n('lat', 40.015),
    lon: typeof input.lon === 'number' ? input.lon : -105.2705,
    heartRate: input.heartRate === undefined ? 140 : n('heartRate', 140),
    gps: input.gps !== false,
  };
}

export function trackFromSpec(spec: TrackSpec): SimTrack {
  const points: SimPoint[] = [];
  const speed = spec.distanceMeters / spec.durationSeconds;
  // Head north-east; one degree of latitude is ~111.2 km.
  const dLatPerM = 1 / 111_195;
  const dLonPerM = 1 / (111_195 * Math.cos((spec.lat * Math.PI) / 180));
  for (let t = 0; t <= spec.durationSeconds; t += spec.intervalSeconds) {
    const d = speed * t;
    points.push({
      time: spec.start + t * 1000,
      lat: spec.gps ? spec.lat + d * Math.SQRT1_2 * dLatPerM : undefined,
      lon: spec.gps ? spec.lon + d * Math.SQRT1_2 * dLonPerM : undefined,
      altitude: spec.gps ? 1600 + 10 * Math.sin(t / 300) : undefined,
      distance: d,
      speed,
      heartRate: spec.heartRate === undefined ? undefined : Math.round(spec.heartRate + 10 * Math.sin(t / 120)),
      cadence: spec.sport.includes('Ride') ? 85 : 88,
    });
  }
  return {
    start: spec.start,
    elapsed: spec.durationSeconds,
    moving: spec.durationSeconds,
    distance: spec.distanceMeters,
    sport: spec.sport,
    points,
    deviceName: 'Tributary Sandbox',
    manufacturer: 'development',
  };
}

const FIT_SPORT_OUT: Record<string, [string, string]> = {
  Run: ['running', 'generic'],
  TrailRun: ['running', 'trail'],
  Ride: ['cycling', 'generic'],
  MountainBikeRide: ['cycling', 'mountain'],
  VirtualRide: ['cycling', 'virtualActivity'],
  Swim: ['swimming', 'generic'],
  Walk: ['walking', 'generic'],
  Hike: ['hiking', 'generic'],
  Rowing: ['rowing', 'generic'],
};

export function encodeTrack(track: SimTrack, format: SimFormat): Buffer {
  switch (format) {
    case 'fit':
      return encodeFit(track);
    case 'tcx':
      return Buffer.from(encodeTcx(track), 'utf8');
    case 'gpx':
      return Buffer.from(encodeGpx(track), 'utf8');
  }
}

function toSemicircles(deg: number): number {
  return Math.round(deg / SEMICIRCLE);
}

// Profile.MesgNum is typed as a loose record; these numbers are fixed by the FIT profile.
const MESG = { fileId: 0, session: 18, lap: 19, record: 20, event: 21, activity: 34 } as const;

function encodeFit(track: SimTrack): Buffer {
  const encoder = new Encoder();
  const write = (num: number, mesg: Record<string, unknown>): void => void encoder.onMesg(num, mesg);
  const start = new Date(track.start);
  const end = new Date(track.start + track.elapsed * 1000);
  const [sport, subSport] = FIT_SPORT_OUT[track.sport] ?? ['generic', 'generic'];
  write(MESG.fileId, {
    type: 'activity',
    manufacturer: 'development',
    product: 0,
    serialNumber: 1234,
    timeCreated: start,
  });
  write(MESG.event, { timestamp: start, event: 'timer', eventType: 'start', eventGroup: 0 });
  for (const p of track.points) {
    write(MESG.record, {
      timestamp: new Date(p.time),
      positionLat: p.lat === undefined ? undefined : toSemicircles(p.lat),
      positionLong: p.lon === undefined ? undefined : toSemicircles(p.lon),
      altitude: p.altitude,
      distance: p.distance,
      speed: p.speed,
      heartRate: p.heartRate,
      cadence: p.cadence,
      power: p.power,
    });
  }
  write(MESG.event, { timestamp: end, event: 'timer', eventType: 'stopAll', eventGroup: 0 });
  const totals = {
    timestamp: end,
    startTime: start,
    totalElapsedTime: track.elapsed,
    totalTimerTime: track.moving,
    totalDistance: track.distance,
    sport,
    subSport,
  };
  write(MESG.lap, { ...totals, messageIndex: 0 });
  write(MESG.session, { ...totals, messageIndex: 0, firstLapIndex: 0, numLaps: 1 });
  write(MESG.activity, {
    timestamp: end,
    numSessions: 1,
    type: 'manual',
    event: 'activity',
    eventType: 'stop',
    totalTimerTime: track.moving,
  });
  return Buffer.from(encoder.close());
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

function opt(tag: string, v: number | undefined, digits = 1): string {
  return v === undefined ? '' : `<${tag}>${Number(v.toFixed(digits))}</${tag}>`;
}

function encodeTcx(track: SimTrack): string {
  const sport = track.sport.includes('Run') ? 'Running' : track.sport.includes('Ride') ? 'Biking' : 'Other';
  const points = track.points
    .map((p) => {
      const pos =
        p.lat === undefined || p.lon === undefined
          ? ''
          : `<Position><LatitudeDegrees>${p.lat.toFixed(7)}</LatitudeDegrees><LongitudeDegrees>${p.lon.toFixed(7)}</LongitudeDegrees></Position>`;
      const hr =
        p.heartRate === undefined ? '' : `<HeartRateBpm><Value>${Math.round(p.heartRate)}</Value></HeartRateBpm>`;
      return `<Trackpoint><Time>${iso(p.time)}</Time>${pos}${opt('AltitudeMeters', p.altitude)}${opt('DistanceMeters', p.distance)}${hr}${opt('Cadence', p.cadence === undefined ? undefined : Math.round(p.cadence), 0)}</Trackpoint>`;
    })
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">
<Activities><Activity Sport="${sport}"><Id>${iso(track.start)}</Id>
<Lap StartTime="${iso(track.start)}"><TotalTimeSeconds>${track.elapsed}</TotalTimeSeconds><DistanceMeters>${track.distance.toFixed(1)}</DistanceMeters><Calories>0</Calories><Intensity>Active</Intensity><TriggerMethod>Manual</TriggerMethod>
<Track>
${points}
</Track></Lap>
<Creator xsi:type="Device_t" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><Name>${track.deviceName ?? 'Tributary Sandbox'}</Name><UnitId>0</UnitId><ProductID>0</ProductID><Version><VersionMajor>1</VersionMajor><VersionMinor>0</VersionMinor></Version></Creator>
</Activity></Activities>
</TrainingCenterDatabase>
`;
}

function encodeGpx(track: SimTrack): string {
  const points = track.points
    .filter((p) => p.lat !== undefined && p.lon !== undefined)
    .map((p) => {
      const ext =
        p.heartRate === undefined
          ? ''
          : `<extensions><gpxtpx:TrackPointExtension><gpxtpx:hr>${Math.round(p.heartRate)}</gpxtpx:hr></gpxtpx:TrackPointExtension></extensions>`;
      return `<trkpt lat="${(p.lat as number).toFixed(7)}" lon="${(p.lon as number).toFixed(7)}">${opt('ele', p.altitude)}<time>${iso(p.time)}</time>${ext}</trkpt>`;
    })
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="${track.deviceName ?? 'Tributary Sandbox'}" xmlns="http://www.topografix.com/GPX/1/1" xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">
<metadata><time>${iso(track.start)}</time></metadata>
<trk><type>${track.sport.toLowerCase()}</type><trkseg>
${points}
</trkseg></trk>
</gpx>
`;
}
