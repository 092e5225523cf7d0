/**
 * The FIT messages the hub uses, normalised so both decoders (the Garmin SDK and fit-file-parser) feed one mapper.
 * Times are epoch ms; positions degrees; enums the SDK's camelCase strings (numbers when unknown); values scaled.
 */
export interface FitRecord {
  time: number;
  lat?: number;
  lon?: number;
  altitude?: number;
  distance?: number;
  speed?: number;
  heartRate?: number;
  cadence?: number;
  fractionalCadence?: number;
  power?: number;
  temperature?: number;
  calories?: number;
}

/** Lap and session share their summary fields. */
export interface FitSummary {
  startTime?: number;
  timestamp?: number;
  totalElapsedTime?: number;
  totalTimerTime?: number;
  totalMovingTime?: number;
  totalDistance?: number;
  totalCalories?: number;
  totalAscent?: number;
  totalDescent?: number;
  totalStrides?: number;
  avgSpeed?: number;
  maxSpeed?: number;
  avgHeartRate?: number;
  maxHeartRate?: number;
  minHeartRate?: number;
  avgCadence?: number;
  maxCadence?: number;
  avgFractionalCadence?: number;
  maxFractionalCadence?: number;
  avgPower?: number;
  maxPower?: number;
  avgTemperature?: number;
  maxTemperature?: number;
  minTemperature?: number;
  avgAltitude?: number;
  maxAltitude?: number;
  minAltitude?: number;
  sport?: string | number;
  subSport?: string | number;
  /** lap_trigger for laps. */
  trigger?: string | number;
  intensity?: string | number;
  firstLapIndex?: number;
  numLaps?: number;
}

export interface FitEvent {
  time: number;
  event?: string | number;
  eventType?: string | number;
}

export interface FitDevice {
  manufacturer?: string | number;
  product?: number;
  productName?: string;
  /** The SDK's garmin_product subfield name, e.g. `fenix5`. */
  garminProduct?: string | number;
  serialNumber?: number;
  softwareVersion?: number;
  hardwareVersion?: number;
  deviceIndex?: string | number;
}

export interface FitFileMessages {
  decoder: 'garmin-sdk' | 'fit-file-parser';
  fileId?: FitDevice & { timeCreated?: number; type?: string | number };
  devices: FitDevice[];
  records: FitRecord[];
  laps: FitSummary[];
  sessions: FitSummary[];
  events: FitEvent[];
  activity?: { timestamp?: number; localTimestamp?: number };
  /** What the decoder reported; empty when it read the whole file cleanly. */
  errors: string[];
  /** The byte offset the decoder stopped at when it failed, when it said. */
  errorOffset?: number;
}
