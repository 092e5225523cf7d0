import { type Activity, type ActivityStats, type Lap, type Sample, type StatValue } from './activity.model';
import { hasMeasurement } from './activity-samples.util';

/** Below this speed (m/s) a sample interval does not count as moving time (a slow walk is ~0.8 m/s). */
const MOVING_SPEED_THRESHOLD = 0.3;
/** A gap longer than this between two samples is not counted as moving even at speed (device off, lost signal). */
const MAX_MOVING_GAP_MS = 60_000;
/** Default elevation hysteresis (m): barometric noise below this is neither gain nor loss. */
export const DEFAULT_ELEVATION_HYSTERESIS = 1;

export interface StatsOptions {
  /** Only samples with `start <= time < end` are used (laps); defaults to all samples. */
  start?: number;
  end?: number;
  /** Count a sample exactly at `end` (the last lap: its final sample sits on the activity's end). */
  endInclusive?: boolean;
  elevationHysteresis?: number;
}

const EARTH_RADIUS_M = 6_371_008.8;
/**
 * Bound once: the per-sample loops below call these millions of times, and inside a vm context (jest, sandboxes)
 * every `Number`/`Math` is a slow global lookup; it made statsFromSamples ~7 µs per sample under jest.
 */
const isFiniteNumber = Number.isFinite;
const math = Math;

/** Great-circle distance in metres. */
export function haversineDistance(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = math.sin(dLat / 2) ** 2 + math.cos(lat1 * rad) * math.cos(lat2 * rad) * math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * math.asin(math.min(1, math.sqrt(a)));
}

/**
 * Marks each sample as recorded while the timer ran or not, following pause/resume/end markers. A sample that
 * carries `pause` is the last one of its running stretch, so it still counts; `resume`/`start` open a new one.
 */
export function timerRunningFlags(samples: readonly Sample[]): boolean[] {
  let running = true;
  return samples.map((s) => {
    if (s.marker === 'start' || s.marker === 'resume') running = true;
    const flag = running;
    if (s.marker === 'pause' || s.marker === 'end') running = false;
    return flag;
  });
}

/** Total paused milliseconds inside [from, to), from pause → resume markers. */
export function pausedMs(samples: readonly Sample[], from: number, to: number): number {
  let total = 0;
  let pausedAt: number | undefined;
  for (const s of samples) {
    if ((s.marker === 'pause' || s.marker === 'end') && pausedAt === undefined) pausedAt = s.time;
    else if ((s.marker === 'resume' || s.marker === 'start') && pausedAt !== undefined) {
      total += overlap(pausedAt, s.time, from, to);
      pausedAt = undefined;
    }
  }
  if (pausedAt !== undefined) total += overlap(pausedAt, to, from, to);
  return total;
}

function overlap(a0: number, a1: number, b0: number, b1: number): number {
  return math.max(0, math.min(a1, b1) - math.max(a0, b0));
}

class Accumulator {
  private sum = 0;
  private n = 0;
  private lo = Infinity;
  private hi = -Infinity;

  add(v: number | undefined): void {
    if (v === undefined || !isFiniteNumber(v)) return;
    this.sum += v;
    this.n += 1;
    if (v < this.lo) this.lo = v;
    if (v > this.hi) this.hi = v;
  }

  result(): StatValue | undefined {
    if (this.n === 0) return undefined;
    return { avg: this.sum / this.n, min: this.lo, max: this.hi };
  }
}

/**
 * Statistics computed from the samples alone (optionally only those inside a time range). Averages are over
 * samples recorded while the timer ran; speed.avg is distance / timer time like Garmin's avg_speed.
 */
export function statsFromSamples(samples: readonly Sample[], options: StatsOptions = {}): ActivityStats {
  return statsWithFlags(samples, timerRunningFlags(samples), options);
}

/** statsFromSamples with the timer flags of `all` already known (one pass for an activity and all its laps). */
function statsWithFlags(all: readonly Sample[], running: readonly boolean[], options: StatsOptions): ActivityStats {
  const from = options.start ?? -Infinity;
  const to = options.end ?? Infinity;
  const idx: number[] = [];
  for (let i = 0; i < all.length; i += 1) {
    const t = all[i]!.time;
    if (t >= from && (t < to || (options.endInclusive === true && t === to))) idx.push(i);
  }
  const stats: ActivityStats = {};
  if (idx.length === 0) return stats;
  const first = all[idx[0]!]!;
  const last = all[idx[idx.length - 1]!]!;
  const rangeStart = Number.isFinite(from) ? from : first.time;
  const rangeEnd = Number.isFinite(to) ? to : last.time;
  stats.elapsedTime = math.max(0, rangeEnd - rangeStart) / 1000;
  stats.timerTime = math.max(0, rangeEnd - rangeStart - pausedMs(all, rangeStart, rangeEnd)) / 1000;

  const distance = rangeDistance(all, idx, running);
  if (distance !== undefined) stats.distance = distance;

  const hr = new Accumulator();
  const cad = new Accumulator();
  const runCad = new Accumulator();
  const power = new Accumulator();
  const temp = new Accumulator();
  const alt = new Accumulator();
  const speed = new Accumulator();
  let moving = 0;
  let sawMotion = false;
  let prev: Sample | undefined;
  let prevRunning = false;
  for (const i of idx) {
    const s = all[i]!;
    const on = running[i]!;
    alt.add(s.altitude);
    if (on) {
      hr.add(s.heartRate);
      cad.add(s.cadence);
      runCad.add(s.runCadence);
      power.add(s.power);
      temp.add(s.temperature);
    }
    const v = s.speed ?? derivedSpeed(prev, s);
    if (v !== undefined) {
      speed.add(v);
      sawMotion = true;
    }
    if (prev && on && prevRunning && v !== undefined && v >= MOVING_SPEED_THRESHOLD) {
      const dt = s.time - prev.time;
      if (dt > 0 && dt <= MAX_MOVING_GAP_MS) moving += dt;
    }
    if (hasMeasurement(s)) {
      prev = s;
      prevRunning = on && s.marker !== 'pause' && s.marker !== 'end';
    } else if (s.marker === 'pause' || s.marker === 'end') prevRunning = false;
  }
  if (sawMotion) stats.movingTime = moving / 1000;

  const energy = rangeEnergy(all, idx);
  if (energy !== undefined) stats.energy = energy;

  const put = (key: 'heartRate' | 'cadence' | 'runCadence' | 'power' | 'temperature', acc: Accumulator) => {
    const r = acc.result();
    if (r) stats[key] = r;
  };
  put('heartRate', hr);
  put('cadence', cad);
  put('runCadence', runCad);
  put('power', power);
  put('temperature', temp);
  const sp = speed.result();
  if (sp) {
    if (stats.distance !== undefined && stats.timerTime !== undefined && stats.timerTime > 0) {
      sp.avg = stats.distance / stats.timerTime;
    }
    stats.speed = sp;
  }
  const el = alt.result();
  if (el) {
    const { gain, loss } = elevationGainLoss(
      idx.map((i) => all[i]!.altitude),
      options.elevationHysteresis ?? DEFAULT_ELEVATION_HYSTERESIS,
    );
    stats.elevation = { ...el, gain, loss };
  }
  return stats;
}

function derivedSpeed(prev: Sample | undefined, s: Sample): number | undefined {
  if (!prev) return undefined;
  const dt = (s.time - prev.time) / 1000;
  if (dt <= 0) return undefined;
  if (prev.distance !== undefined && s.distance !== undefined) return math.max(0, s.distance - prev.distance) / dt;
  if (prev.lat !== undefined && prev.lon !== undefined && s.lat !== undefined && s.lon !== undefined) {
    return haversineDistance(prev.lat, prev.lon, s.lat, s.lon) / dt;
  }
  return undefined;
}

/**
 * Cumulative distance when samples carry it (last − the value just before the range, so laps add up to the
 * total), else the GPS path length, skipping the jumps across pauses.
 */
function rangeDistance(
  all: readonly Sample[],
  idx: readonly number[],
  running: readonly boolean[],
): number | undefined {
  let base: number | undefined;
  for (let i = idx[0]! - 1; i >= 0; i -= 1) {
    const d = all[i]!.distance;
    if (d !== undefined) {
      base = d;
      break;
    }
  }
  let lastDist: number | undefined;
  for (const i of idx) {
    const d = all[i]!.distance;
    if (d !== undefined) {
      base ??= d;
      lastDist = d;
    }
  }
  if (lastDist !== undefined && base !== undefined) return math.max(0, lastDist - base);
  let total = 0;
  let prev: Sample | undefined;
  let any = false;
  for (const i of idx) {
    const s = all[i]!;
    if (s.lat === undefined || s.lon === undefined) continue;
    if (prev && running[i]) total += haversineDistance(prev.lat!, prev.lon!, s.lat, s.lon);
    prev = s;
    any = true;
  }
  return any ? total : undefined;
}

function rangeEnergy(all: readonly Sample[], idx: readonly number[]): number | undefined {
  let base: number | undefined;
  for (let i = idx[0]! - 1; i >= 0; i -= 1) {
    const c = all[i]!.calories;
    if (c !== undefined) {
      base = c;
      break;
    }
  }
  let lastCal: number | undefined;
  for (const i of idx) {
    const c = all[i]!.calories;
    if (c !== undefined) {
      base ??= 0;
      lastCal = c;
    }
  }
  return lastCal !== undefined && base !== undefined ? math.max(0, lastCal - base) : undefined;
}

/**
 * Ascent and descent with hysteresis: the altitude must move at least `threshold` metres away from the last
 * turning point before the change is counted, so sensor jitter does not add phantom climbing.
 */
export function elevationGainLoss(
  altitudes: readonly (number | undefined)[],
  threshold = DEFAULT_ELEVATION_HYSTERESIS,
): { gain: number; loss: number } {
  let gain = 0;
  let loss = 0;
  let anchor: number | undefined;
  for (const a of altitudes) {
    if (a === undefined || !isFiniteNumber(a)) continue;
    if (anchor === undefined) {
      anchor = a;
      continue;
    }
    const d = a - anchor;
    if (d >= threshold) {
      gain += d;
      anchor = a;
    } else if (d <= -threshold) {
      loss -= d;
      anchor = a;
    }
  }
  return { gain, loss };
}

/** Activity-wide statistics from samples. */
export function computeStats(activity: Pick<Activity, 'samples'>, options: StatsOptions = {}): ActivityStats {
  return statsFromSamples(activity.samples, options);
}

/** Statistics of one lap from the samples inside it. */
export function computeLapStats(
  activity: Pick<Activity, 'samples'>,
  lap: Pick<Lap, 'start' | 'end'>,
  endInclusive = false,
): ActivityStats {
  return statsFromSamples(activity.samples, { start: lap.start, end: lap.end, endInclusive });
}

const STAT_VALUE_KEYS = ['speed', 'elevation', 'heartRate', 'cadence', 'runCadence', 'power', 'temperature'] as const;
const SCALAR_KEYS = ['distance', 'elapsedTime', 'timerTime', 'movingTime', 'energy', 'strides'] as const;

/** `present` with every member it lacks taken from `computed`; nothing present is overwritten. */
export function mergeMissingStats(present: ActivityStats, computed: ActivityStats): ActivityStats {
  const out: ActivityStats = { ...present };
  for (const k of SCALAR_KEYS) {
    if (out[k] === undefined && computed[k] !== undefined) out[k] = computed[k];
  }
  for (const k of STAT_VALUE_KEYS) {
    const c = computed[k];
    if (!c) continue;
    const p = out[k];
    if (!p) {
      out[k] = { ...c };
      continue;
    }
    const merged: StatValue = { ...p };
    for (const m of ['avg', 'min', 'max', 'gain', 'loss'] as const) {
      if (merged[m] === undefined && c[m] !== undefined) merged[m] = c[m];
    }
    out[k] = merged;
  }
  return out;
}

/**
 * A copy whose activity and lap statistics are completed from the samples where the source left them out.
 * Values the source supplied are kept as they are (a device's own totals beat our recomputation).
 */
export function fillMissingStats(activity: Activity, options: StatsOptions = {}): Activity {
  const samples = activity.samples;
  const running = timerRunningFlags(samples);
  const computed = samples.length > 0 ? statsWithFlags(samples, running, options) : {};
  if (computed.elapsedTime !== undefined && activity.end > activity.start) {
    computed.elapsedTime = (activity.end - activity.start) / 1000;
  }
  return {
    ...activity,
    stats: mergeMissingStats(activity.stats, computed),
    laps: activity.laps.map((lap, i) => ({
      ...lap,
      stats: mergeMissingStats(
        lap.stats,
        statsWithFlags(samples, running, {
          start: lap.start,
          end: lap.end,
          endInclusive: i === activity.laps.length - 1,
          elevationHysteresis: options.elevationHysteresis,
        }),
      ),
    })),
  };
}
