import { type ActivityType } from './activity-type';

/** The file formats the hub reads and writes. */
export type ActivityFormat = 'fit' | 'tcx' | 'gpx' | 'pwx';

/** The bytes exactly as a service supplied them, so a destination that accepts the format gets them unchanged. */
export interface OriginalFile {
  format: ActivityFormat;
  bytes: Uint8Array;
  /** The file name at the source, when it had one. */
  name?: string;
}

/** Marks on the timeline. `pause`/`resume` are timer stop/start (auto-pause or the button). */
export type SampleMarker = 'start' | 'pause' | 'resume' | 'end';

/**
 * One point in time. Units are fixed per field so no conversion graph is needed:
 * time: epoch ms (UTC instant, or wall clock as UTC when the activity is `naive`); lat/lon: degrees (WGS84);
 * altitude, distance (cumulative from start): metres; speed: m/s; heartRate: bpm; cadence: rpm (bike, or strokes);
 * runCadence: steps/min counting both feet; power: W; temperature: °C; calories: cumulative kcal.
 * A sample may carry only `time` and `marker`.
 */
export interface Sample {
  time: number;
  lat?: number;
  lon?: number;
  altitude?: number;
  distance?: number;
  speed?: number;
  heartRate?: number;
  cadence?: number;
  runCadence?: number;
  power?: number;
  temperature?: number;
  calories?: number;
  marker?: SampleMarker;
}

/** Summary of one measured quantity. Which members are meaningful depends on the quantity. */
export interface StatValue {
  avg?: number;
  min?: number;
  max?: number;
  /** Elevation only: total ascent / descent in metres. */
  gain?: number;
  loss?: number;
}

/**
 * Totals and summaries. distance: m; elapsedTime/timerTime/movingTime: s; energy: kcal; speed: m/s;
 * elevation: m; heartRate: bpm; cadence: rpm; runCadence: steps/min; power: W; temperature: °C; strides: count.
 */
export interface ActivityStats {
  distance?: number;
  elapsedTime?: number;
  timerTime?: number;
  movingTime?: number;
  energy?: number;
  strides?: number;
  speed?: StatValue;
  elevation?: StatValue;
  heartRate?: StatValue;
  cadence?: StatValue;
  runCadence?: StatValue;
  power?: StatValue;
  temperature?: StatValue;
}

/** FIT's lap trigger methods. */
export type LapTrigger =
  | 'manual'
  | 'time'
  | 'distance'
  | 'position_start'
  | 'position_lap'
  | 'position_waypoint'
  | 'position_marked'
  | 'session_end'
  | 'fitness_equipment';

export type LapIntensity = 'active' | 'rest' | 'warmup' | 'cooldown' | 'recovery' | 'interval' | 'other';

/** A lap is a time range of the activity's samples plus its own statistics. */
export interface Lap {
  start: number;
  end: number;
  trigger?: LapTrigger;
  intensity?: LapIntensity;
  /** In a multisport activity, the sport of the leg this lap belongs to. */
  sport?: ActivityType;
  stats: ActivityStats;
}

export interface Device {
  manufacturer?: string;
  manufacturerId?: number;
  product?: string;
  productId?: number;
  serial?: string;
  softwareVersion?: string;
  hardwareVersion?: string;
  /** Free-form name, e.g. TCX Creator/Name or GPX creator. */
  name?: string;
}

/**
 * The canonical activity every format and connector converts to and from.
 *
 * Times: `start`/`end` and sample times are epoch milliseconds. When `naive` is false or absent they are UTC
 * instants. When `naive` is true the source gave only local wall-clock times and the numbers hold that wall clock
 * read as if it were UTC; defining a timezone re-reads them in that zone (see libs/sync timezone rules).
 * Tri-state flags (`stationary`, `gps`, `trainer`) are undefined when unknown.
 */
export interface Activity {
  start: number;
  end: number;
  timezone?: string;
  naive?: boolean;
  type: ActivityType;
  name?: string;
  notes?: string;
  private?: boolean;
  stationary?: boolean;
  gps?: boolean;
  trainer?: boolean;
  device?: Device;
  laps: Lap[];
  samples: Sample[];
  stats: ActivityStats;
  original?: OriginalFile;
  /**
   * The UTC offset in minutes the source file itself claimed for the local start time (FIT
   * `activity.local_timestamp − timestamp`, rounded to 15 min). Only a hint: libs/sync decides the zone.
   */
  utcOffsetHint?: number;
  /** The source's own sport label when it is richer than `type` (e.g. FIT `cycling/gravelCycling`), for diagnostics. */
  sourceSport?: string;
  /**
   * True when the decoder recovered only part of a damaged file (truncated, bad CRC, corrupt trailer).
   * `warnings` then says what was lost; consumers that need a complete file must check this.
   */
  partial?: boolean;
  /** Non-fatal problems met while decoding (see `DecodeWarningCode`). */
  warnings?: DecodeWarning[];
}

/** Stable codes for what a decoder repaired, skipped or could only partly read. */
export type DecodeWarningCode =
  | 'truncated'
  | 'bad_checksum'
  | 'corrupt_trailer'
  | 'fallback_decoder'
  | 'device_relative_time'
  | 'time_outliers_dropped'
  | 'duplicate_times_merged'
  | 'unsorted_times'
  | 'synthesised_laps';

export interface DecodeWarning {
  code: DecodeWarningCode;
  message: string;
  /** How many samples/messages it concerned, when countable. */
  count?: number;
}

/**
 * What a service's activity list says about one activity, before any download. Connectors produce these;
 * libs/sync dedups and plans with them.
 */
export interface ActivitySummary {
  /** The service's own id for the activity (Strava activity id, Dropbox path, Garmin activityId, …). */
  remoteId: string;
  start: number;
  end?: number;
  timezone?: string;
  naive?: boolean;
  type: ActivityType;
  name?: string;
  notes?: string;
  private?: boolean;
  stationary?: boolean;
  gps?: boolean;
  trainer?: boolean;
  /** metres */
  distance?: number;
  /** Other identities this activity is known by (Strava external_id, `garmin_push_…`, a file name). */
  externalIds?: string[];
  /** Formats of the original file the service can hand out, best first. */
  originalFormats?: ActivityFormat[];
  /** False while the service is still recording or processing it (excluded until the next sync). */
  complete?: boolean;
}
