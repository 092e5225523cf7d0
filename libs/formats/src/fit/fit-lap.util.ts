import { type LapIntensity, type LapTrigger } from '@tributary/activity';

/** The model's lap triggers as the FIT profile names them (lap_trigger, camelCase as the Garmin SDK writes them). */
export const FIT_LAP_TRIGGERS: Readonly<Record<LapTrigger, string>> = {
  manual: 'manual',
  time: 'time',
  distance: 'distance',
  position_start: 'positionStart',
  position_lap: 'positionLap',
  position_waypoint: 'positionWaypoint',
  position_marked: 'positionMarked',
  session_end: 'sessionEnd',
  fitness_equipment: 'fitnessEquipment',
};

/** The model's lap intensities as the FIT profile names them (the same words). */
export const FIT_INTENSITIES: Readonly<Record<LapIntensity, string>> = {
  active: 'active',
  rest: 'rest',
  warmup: 'warmup',
  cooldown: 'cooldown',
  recovery: 'recovery',
  interval: 'interval',
  other: 'other',
};

// Reverse lookups as Maps, so a file's value such as "constructor" never reaches Object.prototype.
const TRIGGER_FROM_FIT = new Map(Object.entries(FIT_LAP_TRIGGERS).map(([model, fit]) => [fit, model as LapTrigger]));
const INTENSITY_FROM_FIT = new Map(Object.entries(FIT_INTENSITIES).map(([model, fit]) => [fit, model as LapIntensity]));

/** The model's trigger for a decoded FIT lap_trigger; undefined for numbers (unknown values) and anything else. */
export function lapTriggerFromFit(value: unknown): LapTrigger | undefined {
  return typeof value === 'string' ? TRIGGER_FROM_FIT.get(value) : undefined;
}

/** The model's intensity for a decoded FIT intensity; undefined for numbers (unknown values) and anything else. */
export function lapIntensityFromFit(value: unknown): LapIntensity | undefined {
  return typeof value === 'string' ? INTENSITY_FROM_FIT.get(value) : undefined;
}
