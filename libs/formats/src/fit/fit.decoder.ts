import {
  fillMissingStats,
  inferFlags,
  mergeMissingStats,
  mergeSameTimeSamples,
  type Activity,
  type ActivityStats,
  type ActivityType,
  type DecodeWarning,
  type Device,
  type Lap,
  type Sample,
  type SampleMarker,
  type StatValue,
} from '@tributary/activity';
import { FormatError } from '../format.error';
import {
  type FitDevice,
  type FitEvent,
  type FitFileMessages,
  type FitRecord,
  type FitSummary,
} from './fit-messages.types';
import { lapIntensityFromFit, lapTriggerFromFit } from './fit-lap.util';
import { FIT_EPOCH_MS } from './fit-sdk.decoder';
import { activityTypeFromFit, isTrainerSubSport, usesRunCadence } from './fit-sport.util';

/** FIT date_time values below this are seconds since the device powered on, not since the FIT epoch. */
const SYSTEM_TIME_LIMIT_MS = FIT_EPOCH_MS + 0x10000000 * 1000;
/** Records further than this outside the sessions' span are clock glitches (a 2015 record inside a 2013 ride). */
const OUTLIER_MARGIN_MS = 10 * 60_000;
const OUTLIER_MARGIN_NO_SESSION_MS = 2 * 86_400_000;

/** Bound once: called per field of every record, and a global lookup is slow inside a vm context (jest). */
const isFiniteNumber = Number.isFinite;
const finite = (v: number | undefined): v is number => v !== undefined && isFiniteNumber(v);

function summaryEnd(s: FitSummary): number | undefined {
  if (!finite(s.startTime)) return undefined;
  // Never the message timestamp: summary-first files write it when the message is written, not at the end.
  const elapsed = s.totalElapsedTime ?? s.totalTimerTime;
  return finite(elapsed) ? s.startTime + Math.round(elapsed * 1000) : undefined;
}

/** Drops records far outside the recorded span, then sorts stably; both counted as warnings. */
function cleanRecordTimes(records: FitRecord[], summaries: FitSummary[], warnings: DecodeWarning[]): FitRecord[] {
  // Laps count too: some devices write a session start_time that disagrees with its laps (fenix 2 multisport).
  const spans = summaries
    .map((s) => [s.startTime, summaryEnd(s)] as const)
    .filter((p): p is readonly [number, number] => finite(p[0]) && finite(p[1]));
  let lo: number;
  let hi: number;
  if (spans.length > 0) {
    lo = Math.min(...spans.map((p) => p[0])) - OUTLIER_MARGIN_MS;
    hi = Math.max(...spans.map((p) => p[1])) + OUTLIER_MARGIN_MS;
  } else {
    const times = records.map((r) => r.time).sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)] ?? 0;
    lo = median - OUTLIER_MARGIN_NO_SESSION_MS;
    hi = median + OUTLIER_MARGIN_NO_SESSION_MS;
  }
  const kept = records.filter((r) => r.time >= lo && r.time <= hi);
  if (kept.length < records.length) {
    warnings.push({
      code: 'time_outliers_dropped',
      message: `Dropped ${records.length - kept.length} record(s) whose time lies outside the recorded span.`,
      count: records.length - kept.length,
    });
  }
  let backwards = 0;
  for (let i = 1; i < kept.length; i += 1) if (kept[i]!.time < kept[i - 1]!.time) backwards += 1;
  if (backwards > 0) {
    warnings.push({
      code: 'unsorted_times',
      message: `${backwards} record(s) stepped back in time; sorted.`,
      count: backwards,
    });
    return kept
      .map((r, i) => ({ r, i }))
      .sort((a, b) => a.r.time - b.r.time || a.i - b.i)
      .map((x) => x.r);
  }
  return kept;
}

/** The sport of whatever session covers `time` (multisport files change sport per session). */
function sessionAt(sessions: readonly SessionSpan[], time: number): SessionSpan | undefined {
  let found: SessionSpan | undefined = sessions[0];
  for (const s of sessions) if (time >= s.start) found = s;
  return found;
}

interface SessionSpan {
  start: number;
  end: number;
  type: ActivityType;
  summary: FitSummary;
}

function recordToSample(r: FitRecord, runCadence: boolean): Sample {
  const s: Sample = { time: r.time };
  if (finite(r.lat) && finite(r.lon)) {
    s.lat = r.lat;
    s.lon = r.lon;
  }
  if (finite(r.altitude)) s.altitude = r.altitude;
  if (finite(r.distance)) s.distance = r.distance;
  if (finite(r.speed)) s.speed = r.speed;
  if (finite(r.heartRate)) s.heartRate = r.heartRate;
  if (finite(r.cadence)) {
    const cad = r.cadence + (r.fractionalCadence ?? 0);
    if (runCadence) s.runCadence = cad * 2;
    else s.cadence = cad;
  }
  if (finite(r.power)) s.power = r.power;
  if (finite(r.temperature)) s.temperature = r.temperature;
  if (finite(r.calories)) s.calories = r.calories;
  return s;
}

/** Merges records that share a timestamp (mergeSameTimeSamples: first value wins), counted as a warning. */
function mergeSameTime(samples: Sample[], warnings: DecodeWarning[]): Sample[] {
  const out = mergeSameTimeSamples(samples);
  const merged = samples.length - out.length;
  if (merged > 0) {
    warnings.push({
      code: 'duplicate_times_merged',
      message: `Merged ${merged} record(s) that repeated the previous record's time.`,
      count: merged,
    });
  }
  return out;
}

const isStop = (t: string | number | undefined) =>
  t === 'stop' || t === 'stopAll' || t === 'stopDisable' || t === 'stopDisableAll';

/**
 * Timer events → markers: the first start is `start`, a stop followed by a start is `pause` … `resume`, the last
 * stop is `end`. A stop and start in the same second is no pause and is dropped. A marker lands on the record
 * with the same time when there is one, else on a marker-only sample.
 */
function applyTimerMarkers(samples: Sample[], events: readonly FitEvent[]): Sample[] {
  const timer = events
    .filter((e) => e.event === 'timer' && (e.eventType === 'start' || isStop(e.eventType)))
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.time - b.e.time || a.i - b.i)
    .map((x) => x.e);
  const marks: { time: number; marker: SampleMarker }[] = [];
  let running = false;
  let started = false;
  for (const e of timer) {
    if (e.eventType === 'start') {
      if (running) continue;
      const last = marks[marks.length - 1];
      if (last && last.marker === 'pause' && last.time === e.time) marks.pop();
      else marks.push({ time: e.time, marker: started ? 'resume' : 'start' });
      running = true;
      started = true;
    } else if (running) {
      marks.push({ time: e.time, marker: 'pause' });
      running = false;
    }
  }
  const lastMark = marks[marks.length - 1];
  if (lastMark && lastMark.marker === 'pause') lastMark.marker = 'end';
  if (marks.length === 0) return samples;

  const out = samples.slice();
  const byTime = new Map<number, number>();
  out.forEach((s, i) => byTime.set(s.time, i));
  const extra: Sample[] = [];
  for (const m of marks) {
    const i = byTime.get(m.time);
    if (i !== undefined && out[i]!.marker === undefined) out[i] = { ...out[i]!, marker: m.marker };
    else extra.push({ time: m.time, marker: m.marker });
  }
  if (extra.length === 0) return out;
  return [...out, ...extra]
    .map((s, i) => ({ s, i }))
    .sort((a, b) => a.s.time - b.s.time || a.i - b.i)
    .map((x) => x.s);
}

function statValue(avg?: number, min?: number, max?: number): StatValue | undefined {
  const v: StatValue = {};
  if (finite(avg)) v.avg = avg;
  if (finite(min)) v.min = min;
  if (finite(max)) v.max = max;
  return Object.keys(v).length > 0 ? v : undefined;
}

function summaryStats(s: FitSummary, runCadence: boolean): ActivityStats {
  const stats: ActivityStats = {};
  if (finite(s.totalDistance)) stats.distance = s.totalDistance;
  if (finite(s.totalElapsedTime)) stats.elapsedTime = s.totalElapsedTime;
  if (finite(s.totalTimerTime)) stats.timerTime = s.totalTimerTime;
  if (finite(s.totalMovingTime)) stats.movingTime = s.totalMovingTime;
  if (finite(s.totalCalories)) stats.energy = s.totalCalories;
  if (finite(s.totalStrides) && runCadence) stats.strides = s.totalStrides;
  const speed = statValue(s.avgSpeed, undefined, s.maxSpeed);
  if (speed) stats.speed = speed;
  const hr = statValue(s.avgHeartRate, s.minHeartRate, s.maxHeartRate);
  if (hr) stats.heartRate = hr;
  const cadAvg = finite(s.avgCadence) ? s.avgCadence + (s.avgFractionalCadence ?? 0) : undefined;
  const cadMax = finite(s.maxCadence) ? s.maxCadence + (s.maxFractionalCadence ?? 0) : undefined;
  if (runCadence) {
    const rc = statValue(
      cadAvg === undefined ? undefined : cadAvg * 2,
      undefined,
      cadMax === undefined ? undefined : cadMax * 2,
    );
    if (rc) stats.runCadence = rc;
  } else {
    const c = statValue(cadAvg, undefined, cadMax);
    if (c) stats.cadence = c;
  }
  const power = statValue(s.avgPower, undefined, s.maxPower);
  if (power) stats.power = power;
  const temp = statValue(s.avgTemperature, s.minTemperature, s.maxTemperature);
  if (temp) stats.temperature = temp;
  const inRange = (a: number | undefined) => (finite(a) && a >= -500 && a <= 9000 ? a : undefined);
  const elevation = statValue(inRange(s.avgAltitude), inRange(s.minAltitude), inRange(s.maxAltitude)) ?? {};
  if (finite(s.totalAscent)) elevation.gain = s.totalAscent;
  if (finite(s.totalDescent)) elevation.loss = s.totalDescent;
  if (Object.keys(elevation).length > 0) stats.elevation = elevation;
  return stats;
}

/** Totals of several sessions: sums, extremes, and timer-time-weighted averages. */
function combineStats(parts: readonly ActivityStats[]): ActivityStats {
  const out: ActivityStats = {};
  for (const k of ['distance', 'elapsedTime', 'timerTime', 'movingTime', 'energy', 'strides'] as const) {
    const vals = parts.map((p) => p[k]).filter(finite);
    if (vals.length > 0) out[k] = vals.reduce((a, v) => a + v, 0);
  }
  for (const k of ['speed', 'heartRate', 'cadence', 'runCadence', 'power', 'temperature', 'elevation'] as const) {
    const withK = parts.filter((p) => p[k] !== undefined);
    if (withK.length === 0) continue;
    const v: StatValue = {};
    const maxes = withK.map((p) => p[k]!.max).filter(finite);
    const mins = withK.map((p) => p[k]!.min).filter(finite);
    if (maxes.length > 0) v.max = Math.max(...maxes);
    if (mins.length > 0) v.min = Math.min(...mins);
    const weighted = withK.filter((p) => finite(p[k]!.avg) && finite(p.timerTime) && p.timerTime > 0);
    const weight = weighted.reduce((a, p) => a + p.timerTime!, 0);
    if (k !== 'speed' && weight > 0) v.avg = weighted.reduce((a, p) => a + p[k]!.avg! * p.timerTime!, 0) / weight;
    if (k === 'elevation') {
      const gains = withK.map((p) => p.elevation!.gain).filter(finite);
      const losses = withK.map((p) => p.elevation!.loss).filter(finite);
      if (gains.length > 0) v.gain = gains.reduce((a, g) => a + g, 0);
      if (losses.length > 0) v.loss = losses.reduce((a, g) => a + g, 0);
    }
    if (Object.keys(v).length > 0) out[k] = v;
  }
  if (finite(out.distance) && finite(out.timerTime) && out.timerTime > 0) {
    out.speed = { ...out.speed, avg: out.distance / out.timerTime };
  }
  return out;
}

function deviceOf(fit: FitFileMessages): Device | undefined {
  const creator: FitDevice | undefined =
    fit.devices.find((d) => d.deviceIndex === 'creator' || d.deviceIndex === 0) ?? undefined;
  const base: FitDevice = { ...creator, ...stripUndefined(fit.fileId ?? {}) };
  const device: Device = {};
  if (typeof base.manufacturer === 'string') device.manufacturer = base.manufacturer;
  else if (finite(base.manufacturer)) device.manufacturerId = base.manufacturer;
  if (finite(base.product)) device.productId = base.product;
  const productName =
    typeof base.garminProduct === 'string' ? base.garminProduct : (creator?.productName ?? base.productName);
  if (productName !== undefined) device.product = productName;
  if (finite(base.serialNumber)) device.serial = String(base.serialNumber);
  if (finite(creator?.softwareVersion)) device.softwareVersion = String(creator.softwareVersion);
  if (finite(creator?.hardwareVersion)) device.hardwareVersion = String(creator.hardwareVersion);
  return Object.keys(device).length > 0 ? device : undefined;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Multisport: swim + bike + run is a triathlon, run + bike + run a duathlon, anything else plain multisport. */
function multisportType(legs: readonly ActivityType[]): ActivityType {
  const sports = legs.filter((t) => t !== 'transition');
  const families = sports.map((t) =>
    t.includes('swim')
      ? 'swim'
      : t.includes('running')
        ? 'run'
        : t.includes('cycl') || t.includes('bik') || t === 'virtual_ride'
          ? 'bike'
          : t,
  );
  const key = families.join(',');
  if (key === 'swim,bike,run') return 'triathlon';
  if (key === 'run,bike,run') return 'duathlon';
  return 'multisport';
}

/** Maps the normalised FIT messages to the canonical activity. */
export function fitMessagesToActivity(fit: FitFileMessages, bytes: Uint8Array, warnings: DecodeWarning[]): Activity {
  const sessionSpans: SessionSpan[] = fit.sessions
    .filter((s) => finite(s.startTime))
    .map((s) => ({
      start: s.startTime!,
      end: summaryEnd(s) ?? s.startTime!,
      type: activityTypeFromFit(s.sport, s.subSport),
      summary: s,
    }))
    .sort((a, b) => a.start - b.start);
  const multisport = sessionSpans.length > 1 && new Set(sessionSpans.map((s) => s.type)).size > 1;
  const firstSession = sessionSpans[0];
  const lapSport = fit.laps.find((l) => l.sport !== undefined);
  const type: ActivityType = multisport
    ? multisportType(sessionSpans.map((s) => s.type))
    : firstSession
      ? firstSession.type
      : activityTypeFromFit(lapSport?.sport, lapSport?.subSport);
  const typeAt = (time: number): ActivityType => (multisport ? (sessionAt(sessionSpans, time)?.type ?? type) : type);

  const records = cleanRecordTimes(fit.records, [...fit.sessions, ...fit.laps], warnings);
  if (records.length > 0 && records[0]!.time < SYSTEM_TIME_LIMIT_MS) {
    warnings.push({
      code: 'device_relative_time',
      message: 'Timestamps count from device power-on (before 1998), not real dates; the start date is wrong.',
    });
  }
  let samples = mergeSameTime(
    records.map((r) => recordToSample(r, usesRunCadence(typeAt(r.time)))),
    warnings,
  );
  samples = applyTimerMarkers(samples, fit.events);

  const lapMsgs = fit.laps
    .filter((l) => finite(l.startTime))
    .map((l, i) => ({ l, i }))
    .sort((a, b) => a.l.startTime! - b.l.startTime! || a.i - b.i)
    .map((x) => x.l);
  let laps: Lap[] = lapMsgs.map((l, i) => {
    const start = l.startTime!;
    const end = summaryEnd(l) ?? lapMsgs[i + 1]?.startTime ?? l.timestamp ?? start;
    const legType = multisport
      ? l.sport !== undefined && l.sport !== 'generic'
        ? activityTypeFromFit(l.sport, l.subSport)
        : typeAt(start)
      : type;
    const lap: Lap = { start, end: Math.max(start, end), stats: summaryStats(l, usesRunCadence(legType)) };
    const trigger = lapTriggerFromFit(l.trigger);
    if (trigger) lap.trigger = trigger;
    const intensity = lapIntensityFromFit(l.intensity);
    if (intensity) lap.intensity = intensity;
    if (multisport) lap.sport = legType;
    return lap;
  });

  // A session with exactly one lap summarises the same span: lend the lap what only the session recorded.
  sessionSpans.forEach((span, si) => {
    const first = span.summary.firstLapIndex;
    const inSpan = laps.filter((l) => l.start >= span.start && l.start < span.end);
    const only =
      span.summary.numLaps === 1 && first !== undefined
        ? laps[first]
        : sessionSpans.length === laps.length && first === undefined
          ? laps[si]
          : inSpan.length === 1
            ? inSpan[0]
            : undefined;
    if (only) only.stats = mergeMissingStats(only.stats, summaryStats(span.summary, usesRunCadence(span.type)));
  });

  const dataTimes = samples.map((s) => s.time);
  const starts = [
    ...sessionSpans.map((s) => s.start),
    ...laps.map((l) => l.start),
    ...(dataTimes.length > 0 ? [dataTimes[0]!] : []),
  ];
  const ends = [
    ...sessionSpans.map((s) => s.end),
    ...laps.map((l) => l.end),
    ...(dataTimes.length > 0 ? [dataTimes[dataTimes.length - 1]!] : []),
  ];
  if (starts.length === 0) {
    throw new FormatError('fit', 'no_activity', 'The file holds no records, laps or sessions with a time.');
  }
  const start = Math.min(...starts);
  const end = Math.max(...ends);

  if (laps.length === 0) {
    laps =
      sessionSpans.length > 0
        ? sessionSpans.map((s) => ({
            start: s.start,
            end: s.end,
            trigger: 'session_end' as const,
            stats: summaryStats(s.summary, usesRunCadence(s.type)),
            ...(multisport ? { sport: s.type } : {}),
          }))
        : [{ start, end, trigger: 'session_end' as const, stats: {} }];
    warnings.push({
      code: 'synthesised_laps',
      message: `The file has no laps; made ${laps.length} from its sessions or records.`,
    });
  }

  const stats = combineStats(sessionSpans.map((s) => summaryStats(s.summary, usesRunCadence(s.type))));
  const subSport = firstSession?.summary.subSport ?? lapSport?.subSport;
  let activity: Activity = {
    start,
    end,
    type,
    laps,
    samples,
    stats,
    original: { format: 'fit', bytes },
  };
  const sport = multisport ? 'multisport' : (firstSession?.summary.sport ?? lapSport?.sport);
  if (sport !== undefined)
    activity.sourceSport = `fit:${sport}${subSport !== undefined && !multisport ? `/${subSport}` : ''}`;
  const device = deviceOf(fit);
  if (device) activity.device = device;
  if (!multisport && isTrainerSubSport(subSport)) activity.trainer = true;
  const offset = utcOffsetHint(fit);
  if (offset !== undefined) activity.utcOffsetHint = offset;
  activity = fillMissingStats(activity);
  const flags = inferFlags(activity);
  activity.gps = flags.gps;
  activity.stationary = flags.stationary;
  return activity;
}

/** local_timestamp − timestamp, rounded to 15 minutes; ignored when absent or beyond real UTC offsets. */
function utcOffsetHint(fit: FitFileMessages): number | undefined {
  const ts = fit.activity?.timestamp;
  const local = fit.activity?.localTimestamp;
  if (!finite(ts) || !finite(local)) return undefined;
  const minutes = Math.round((local - ts) / 60_000 / 15) * 15;
  return Math.abs(minutes) <= 14 * 60 ? minutes : undefined;
}
