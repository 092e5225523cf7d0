import { familyOf, type ActivityType } from '@tributary/activity';

/** FIT sport / sub_sport as the Garmin SDK names them (camelCase profile strings). */
export interface FitSport {
  sport: string;
  subSport: string;
}

const RUNNING_SUB: Record<string, ActivityType> = {
  treadmill: 'treadmill_running',
  indoorRunning: 'treadmill_running',
  trail: 'trail_running',
  track: 'track_running',
  virtualActivity: 'virtual_running',
};

const CYCLING_SUB: Record<string, ActivityType> = {
  road: 'road_cycling',
  mountain: 'mountain_biking',
  downhill: 'mountain_biking',
  enduro: 'mountain_biking',
  cyclocross: 'cyclocross',
  trackCycling: 'track_cycling',
  indoorCycling: 'indoor_cycling',
  spin: 'indoor_cycling',
  virtualActivity: 'virtual_ride',
  gravelCycling: 'gravel_cycling',
  eBikeMountain: 'e_mountain_biking',
  eBikeEnduro: 'e_mountain_biking',
  eBikeFitness: 'e_biking',
  handCycling: 'handcycling',
  indoorHandCycling: 'handcycling',
};

const FITNESS_SUB: Record<string, ActivityType> = {
  indoorRowing: 'indoor_rowing',
  elliptical: 'elliptical',
  stairClimbing: 'stair_stepper',
  treadmill: 'treadmill_running',
  indoorRunning: 'treadmill_running',
  indoorCycling: 'indoor_cycling',
  spin: 'indoor_cycling',
  virtualActivity: 'virtual_ride',
  indoorWalking: 'indoor_walking',
  strengthTraining: 'strength_training',
  cardioTraining: 'cardio',
  yoga: 'yoga',
  pilates: 'pilates',
  hiit: 'hiit',
  indoorClimbing: 'indoor_climbing',
};

const SPORT: Record<string, ActivityType> = {
  generic: 'other',
  running: 'running',
  cycling: 'cycling',
  transition: 'transition',
  fitnessEquipment: 'cardio',
  swimming: 'swimming',
  training: 'cardio',
  walking: 'walking',
  crossCountrySkiing: 'cross_country_skiing',
  alpineSkiing: 'downhill_skiing',
  snowboarding: 'snowboarding',
  rowing: 'rowing',
  mountaineering: 'mountaineering',
  hiking: 'hiking',
  multisport: 'multisport',
  paddling: 'canoeing',
  canoeing: 'canoeing',
  eBiking: 'e_biking',
  golf: 'golf',
  inlineSkating: 'inline_skating',
  rockClimbing: 'climbing',
  floorClimbing: 'stair_stepper',
  sailing: 'sailing',
  iceSkating: 'ice_skating',
  snowshoeing: 'snowshoeing',
  standUpPaddleboarding: 'stand_up_paddling',
  surfing: 'surfing',
  kayaking: 'kayaking',
  rafting: 'kayaking',
  kitesurfing: 'kitesurfing',
  hiit: 'hiit',
  wheelchairPushWalk: 'wheelchair',
  wheelchairPushRun: 'wheelchair',
};

/**
 * FIT sport/sub_sport → the most specific ActivityType. Unknown sports (numbers the SDK could not name, or sports
 * the hub has no type for, e.g. snorkeling) become `other`; the caller keeps the FIT pair in `sourceSport`.
 */
export function activityTypeFromFit(
  sport: string | number | undefined,
  subSport: string | number | undefined,
): ActivityType {
  const s = typeof sport === 'string' ? sport : 'generic';
  const sub = typeof subSport === 'string' ? subSport : 'generic';
  switch (s) {
    case 'running':
      return RUNNING_SUB[sub] ?? 'running';
    case 'cycling':
      return CYCLING_SUB[sub] ?? 'cycling';
    case 'eBiking':
      return sub === 'eBikeMountain' || sub === 'eBikeEnduro' ? 'e_mountain_biking' : 'e_biking';
    case 'fitnessEquipment':
    case 'training':
      return FITNESS_SUB[sub] ?? 'cardio';
    case 'swimming':
      if (sub === 'lapSwimming') return 'pool_swimming';
      return sub === 'openWater' ? 'open_water_swimming' : 'swimming';
    case 'walking':
      return sub === 'indoorWalking' ? 'indoor_walking' : 'walking';
    case 'rowing':
      return sub === 'indoorRowing' ? 'indoor_rowing' : 'rowing';
    case 'alpineSkiing':
      return sub === 'backcountry' ? 'backcountry_skiing' : 'downhill_skiing';
    case 'crossCountrySkiing':
      return sub === 'backcountry' ? 'backcountry_skiing' : 'cross_country_skiing';
    case 'rockClimbing':
      return sub === 'indoorClimbing' || sub === 'bouldering' ? 'indoor_climbing' : 'climbing';
    case 'multisport':
      if (sub === 'triathlon' || sub === 'poolTriathlon') return 'triathlon';
      return sub === 'duathlon' ? 'duathlon' : 'multisport';
    default:
      return SPORT[s] ?? 'other';
  }
}

const TO_FIT: Record<ActivityType, FitSport> = {
  other: { sport: 'generic', subSport: 'generic' },
  on_foot: { sport: 'running', subSport: 'generic' },
  running: { sport: 'running', subSport: 'generic' },
  trail_running: { sport: 'running', subSport: 'trail' },
  treadmill_running: { sport: 'running', subSport: 'treadmill' },
  track_running: { sport: 'running', subSport: 'track' },
  virtual_running: { sport: 'running', subSport: 'virtualActivity' },
  walking: { sport: 'walking', subSport: 'generic' },
  hiking: { sport: 'hiking', subSport: 'generic' },
  indoor_walking: { sport: 'walking', subSport: 'indoorWalking' },
  nordic_walking: { sport: 'walking', subSport: 'generic' },
  mountaineering: { sport: 'mountaineering', subSport: 'generic' },
  wheelchair: { sport: 'wheelchairPushWalk', subSport: 'generic' },
  cycling: { sport: 'cycling', subSport: 'generic' },
  road_cycling: { sport: 'cycling', subSport: 'road' },
  mountain_biking: { sport: 'cycling', subSport: 'mountain' },
  e_mountain_biking: { sport: 'eBiking', subSport: 'eBikeMountain' },
  gravel_cycling: { sport: 'cycling', subSport: 'gravelCycling' },
  cyclocross: { sport: 'cycling', subSport: 'cyclocross' },
  track_cycling: { sport: 'cycling', subSport: 'trackCycling' },
  e_biking: { sport: 'eBiking', subSport: 'generic' },
  indoor_cycling: { sport: 'cycling', subSport: 'indoorCycling' },
  virtual_ride: { sport: 'cycling', subSport: 'virtualActivity' },
  handcycling: { sport: 'cycling', subSport: 'handCycling' },
  swimming: { sport: 'swimming', subSport: 'generic' },
  pool_swimming: { sport: 'swimming', subSport: 'lapSwimming' },
  open_water_swimming: { sport: 'swimming', subSport: 'openWater' },
  water_sports: { sport: 'paddling', subSport: 'generic' },
  rowing: { sport: 'rowing', subSport: 'generic' },
  indoor_rowing: { sport: 'rowing', subSport: 'indoorRowing' },
  kayaking: { sport: 'kayaking', subSport: 'generic' },
  canoeing: { sport: 'paddling', subSport: 'generic' },
  stand_up_paddling: { sport: 'standUpPaddleboarding', subSport: 'generic' },
  surfing: { sport: 'surfing', subSport: 'generic' },
  kitesurfing: { sport: 'kitesurfing', subSport: 'generic' },
  sailing: { sport: 'sailing', subSport: 'generic' },
  winter_sports: { sport: 'alpineSkiing', subSport: 'generic' },
  downhill_skiing: { sport: 'alpineSkiing', subSport: 'generic' },
  backcountry_skiing: { sport: 'alpineSkiing', subSport: 'backcountry' },
  cross_country_skiing: { sport: 'crossCountrySkiing', subSport: 'generic' },
  roller_skiing: { sport: 'crossCountrySkiing', subSport: 'generic' },
  snowboarding: { sport: 'snowboarding', subSport: 'generic' },
  snowshoeing: { sport: 'snowshoeing', subSport: 'generic' },
  ice_skating: { sport: 'iceSkating', subSport: 'generic' },
  inline_skating: { sport: 'inlineSkating', subSport: 'generic' },
  climbing: { sport: 'rockClimbing', subSport: 'generic' },
  indoor_climbing: { sport: 'rockClimbing', subSport: 'indoorClimbing' },
  fitness: { sport: 'training', subSport: 'generic' },
  strength_training: { sport: 'training', subSport: 'strengthTraining' },
  yoga: { sport: 'training', subSport: 'yoga' },
  pilates: { sport: 'training', subSport: 'pilates' },
  elliptical: { sport: 'fitnessEquipment', subSport: 'elliptical' },
  stair_stepper: { sport: 'fitnessEquipment', subSport: 'stairClimbing' },
  hiit: { sport: 'hiit', subSport: 'generic' },
  cardio: { sport: 'training', subSport: 'cardioTraining' },
  golf: { sport: 'golf', subSport: 'generic' },
  multisport: { sport: 'multisport', subSport: 'generic' },
  triathlon: { sport: 'multisport', subSport: 'triathlon' },
  duathlon: { sport: 'multisport', subSport: 'duathlon' },
  transition: { sport: 'transition', subSport: 'generic' },
};

/** ActivityType → FIT sport/sub_sport for writing. */
export function fitSportFor(type: ActivityType): FitSport {
  return TO_FIT[type];
}

/** FIT cadence is per leg for foot sports (tapiriik: running, walking, hiking); TCX/GPX/the model count steps. */
export function usesRunCadence(type: ActivityType): boolean {
  return familyOf(type) === 'on_foot';
}

/** Sub-sports that mean an indoor trainer or machine (no real-world movement). */
export function isTrainerSubSport(subSport: string | number | undefined): boolean {
  return (
    typeof subSport === 'string' &&
    [
      'treadmill',
      'indoorRunning',
      'spin',
      'indoorCycling',
      'virtualActivity',
      'indoorRowing',
      'indoorWalking',
    ].includes(subSport)
  );
}
