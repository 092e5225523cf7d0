import { type ActivityType } from '@tributary/activity';

/** Strava sport_type (and the coarser legacy `type`) → canonical type. Unknown values fall back to `other`. */
export const STRAVA_SPORT_TYPES: Readonly<Record<string, ActivityType>> = {
  Ride: 'cycling',
  MountainBikeRide: 'mountain_biking',
  GravelRide: 'gravel_cycling',
  EBikeRide: 'e_biking',
  EMountainBikeRide: 'e_mountain_biking',
  VirtualRide: 'virtual_ride',
  Velomobile: 'cycling',
  Handcycle: 'handcycling',
  Run: 'running',
  TrailRun: 'trail_running',
  VirtualRun: 'virtual_running',
  Walk: 'walking',
  Hike: 'hiking',
  Wheelchair: 'wheelchair',
  Swim: 'swimming',
  AlpineSki: 'downhill_skiing',
  BackcountrySki: 'backcountry_skiing',
  NordicSki: 'cross_country_skiing',
  RollerSki: 'roller_skiing',
  Snowboard: 'snowboarding',
  Snowshoe: 'snowshoeing',
  IceSkate: 'ice_skating',
  InlineSkate: 'inline_skating',
  Rowing: 'rowing',
  VirtualRow: 'indoor_rowing',
  Kayaking: 'kayaking',
  Canoeing: 'canoeing',
  StandUpPaddling: 'stand_up_paddling',
  Surfing: 'surfing',
  Kitesurf: 'kitesurfing',
  Sail: 'sailing',
  RockClimbing: 'climbing',
  WeightTraining: 'strength_training',
  Yoga: 'yoga',
  Pilates: 'pilates',
  Elliptical: 'elliptical',
  StairStepper: 'stair_stepper',
  HighIntensityIntervalTraining: 'hiit',
  Crossfit: 'hiit',
  Workout: 'cardio',
  Golf: 'golf',
};

export function stravaTypeToActivityType(sportType: unknown, legacyType?: unknown): ActivityType {
  for (const t of [sportType, legacyType]) {
    if (typeof t === 'string' && Object.prototype.hasOwnProperty.call(STRAVA_SPORT_TYPES, t)) {
      return STRAVA_SPORT_TYPES[t]!;
    }
  }
  return 'other';
}

/** Canonical type → sport_type for manual activities; the first Strava name listed for a type wins. */
const REVERSE: ReadonlyMap<ActivityType, string> = (() => {
  const map = new Map<ActivityType, string>([['other', 'Workout']]);
  for (const [sport, type] of Object.entries(STRAVA_SPORT_TYPES)) if (!map.has(type)) map.set(type, sport);
  return map;
})();

/** Every canonical type Strava can represent; `other` (Workout) makes every type acceptable via its ancestry. */
export const STRAVA_ACCEPTED_TYPES: ReadonlySet<ActivityType> = new Set(REVERSE.keys());

export function activityTypeToStrava(ancestry: readonly ActivityType[]): string {
  for (const t of ancestry) {
    const s = REVERSE.get(t);
    if (s !== undefined) return s;
  }
  return 'Workout';
}
