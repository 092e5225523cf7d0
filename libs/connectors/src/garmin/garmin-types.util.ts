import { type ActivityType } from '@tributary/activity';

/** Garmin Connect activityType.typeKey → canonical type; unknown keys fall back via their parent or `other`. */
export const GARMIN_TYPE_KEYS: Readonly<Record<string, ActivityType>> = {
  running: 'running',
  street_running: 'running',
  trail_running: 'trail_running',
  treadmill_running: 'treadmill_running',
  indoor_running: 'treadmill_running',
  track_running: 'track_running',
  virtual_run: 'virtual_running',
  ultra_run: 'trail_running',
  cycling: 'cycling',
  road_biking: 'road_cycling',
  mountain_biking: 'mountain_biking',
  gravel_cycling: 'gravel_cycling',
  cyclocross: 'cyclocross',
  track_cycling: 'track_cycling',
  indoor_cycling: 'indoor_cycling',
  virtual_ride: 'virtual_ride',
  e_bike_fitness: 'e_biking',
  e_bike_mountain: 'e_mountain_biking',
  hand_cycling: 'handcycling',
  walking: 'walking',
  casual_walking: 'walking',
  speed_walking: 'walking',
  indoor_walking: 'indoor_walking',
  hiking: 'hiking',
  mountaineering: 'mountaineering',
  wheelchair_push_run: 'wheelchair',
  wheelchair_push_walk: 'wheelchair',
  swimming: 'swimming',
  lap_swimming: 'pool_swimming',
  open_water_swimming: 'open_water_swimming',
  rowing: 'rowing',
  rowing_v2: 'rowing',
  indoor_rowing: 'indoor_rowing',
  kayaking: 'kayaking',
  kayaking_v2: 'kayaking',
  stand_up_paddleboarding: 'stand_up_paddling',
  stand_up_paddleboarding_v2: 'stand_up_paddling',
  surfing: 'surfing',
  surfing_v2: 'surfing',
  kiteboarding: 'kitesurfing',
  kiteboarding_v2: 'kitesurfing',
  sailing: 'sailing',
  sailing_v2: 'sailing',
  resort_skiing_snowboarding: 'downhill_skiing',
  resort_skiing_snowboarding_ws: 'downhill_skiing',
  resort_skiing: 'downhill_skiing',
  resort_snowboarding: 'snowboarding',
  backcountry_skiing: 'backcountry_skiing',
  backcountry_skiing_snowboarding_ws: 'backcountry_skiing',
  cross_country_skiing: 'cross_country_skiing',
  cross_country_skiing_ws: 'cross_country_skiing',
  skate_skiing_ws: 'cross_country_skiing',
  snow_shoe: 'snowshoeing',
  snow_shoe_ws: 'snowshoeing',
  skating: 'ice_skating',
  skating_ws: 'ice_skating',
  inline_skating: 'inline_skating',
  rock_climbing: 'climbing',
  bouldering: 'climbing',
  indoor_climbing: 'indoor_climbing',
  strength_training: 'strength_training',
  yoga: 'yoga',
  pilates: 'pilates',
  elliptical: 'elliptical',
  stair_climbing: 'stair_stepper',
  hiit: 'hiit',
  cardio: 'cardio',
  indoor_cardio: 'cardio',
  fitness_equipment: 'cardio',
  golf: 'golf',
  multi_sport: 'multisport',
  triathlon: 'triathlon',
  duathlon: 'duathlon',
  transition: 'transition',
  other: 'other',
};

export function garminTypeToActivityType(typeKey: unknown): ActivityType {
  if (typeof typeKey !== 'string') return 'other';
  const known = GARMIN_TYPE_KEYS[typeKey];
  if (known !== undefined) return known;
  // Garmin keeps adding suffixed variants (_v2, _ws); try the stem.
  const stem = typeKey.replace(/_(v\d+|ws)$/, '');
  return GARMIN_TYPE_KEYS[stem] ?? 'other';
}

/** "2024-05-01 06:00:00" (Garmin's zone-less GMT strings) → epoch ms. */
export function parseGarminGmt(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?/.exec(value.trim());
  if (m === null) return undefined;
  const ms = m[7] === undefined ? 0 : Math.round(Number(m[7]) * 1000);
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) + ms;
}
