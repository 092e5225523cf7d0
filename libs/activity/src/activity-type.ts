/**
 * The activity type hierarchy. `parent` lets dedup treat related sports as the same activity ("MTB ≈ cycling",
 * "hike ≈ walk ≈ run" as tapiriik's variant groups did) and lets a destination that lacks a specific type fall back
 * to its nearest ancestor. Abstract types group families and are never assigned by a decoder.
 */
export const ACTIVITY_TYPES = {
  other: { parent: null, label: 'Other' },

  on_foot: { parent: 'other', label: 'On foot', abstract: true },
  running: { parent: 'on_foot', label: 'Run' },
  trail_running: { parent: 'running', label: 'Trail run' },
  treadmill_running: { parent: 'running', label: 'Treadmill run' },
  track_running: { parent: 'running', label: 'Track run' },
  virtual_running: { parent: 'running', label: 'Virtual run' },
  walking: { parent: 'on_foot', label: 'Walk' },
  hiking: { parent: 'walking', label: 'Hike' },
  indoor_walking: { parent: 'walking', label: 'Indoor walk' },
  nordic_walking: { parent: 'walking', label: 'Nordic walk' },
  mountaineering: { parent: 'hiking', label: 'Mountaineering' },
  wheelchair: { parent: 'on_foot', label: 'Wheelchair' },

  cycling: { parent: 'other', label: 'Ride' },
  road_cycling: { parent: 'cycling', label: 'Road ride' },
  mountain_biking: { parent: 'cycling', label: 'Mountain bike ride' },
  e_mountain_biking: { parent: 'mountain_biking', label: 'E-mountain bike ride' },
  gravel_cycling: { parent: 'cycling', label: 'Gravel ride' },
  cyclocross: { parent: 'cycling', label: 'Cyclocross' },
  track_cycling: { parent: 'cycling', label: 'Track ride' },
  e_biking: { parent: 'cycling', label: 'E-bike ride' },
  indoor_cycling: { parent: 'cycling', label: 'Indoor ride' },
  virtual_ride: { parent: 'indoor_cycling', label: 'Virtual ride' },
  handcycling: { parent: 'cycling', label: 'Handcycle' },

  swimming: { parent: 'other', label: 'Swim' },
  pool_swimming: { parent: 'swimming', label: 'Pool swim' },
  open_water_swimming: { parent: 'swimming', label: 'Open water swim' },

  water_sports: { parent: 'other', label: 'Water sports', abstract: true },
  rowing: { parent: 'water_sports', label: 'Rowing' },
  indoor_rowing: { parent: 'rowing', label: 'Indoor rowing' },
  kayaking: { parent: 'water_sports', label: 'Kayaking' },
  canoeing: { parent: 'water_sports', label: 'Canoeing' },
  stand_up_paddling: { parent: 'water_sports', label: 'Stand up paddling' },
  surfing: { parent: 'water_sports', label: 'Surfing' },
  kitesurfing: { parent: 'water_sports', label: 'Kitesurfing' },
  sailing: { parent: 'water_sports', label: 'Sailing' },

  winter_sports: { parent: 'other', label: 'Winter sports', abstract: true },
  downhill_skiing: { parent: 'winter_sports', label: 'Alpine ski' },
  backcountry_skiing: { parent: 'winter_sports', label: 'Backcountry ski' },
  cross_country_skiing: { parent: 'winter_sports', label: 'Nordic ski' },
  roller_skiing: { parent: 'cross_country_skiing', label: 'Roller ski' },
  snowboarding: { parent: 'winter_sports', label: 'Snowboard' },
  snowshoeing: { parent: 'winter_sports', label: 'Snowshoe' },
  ice_skating: { parent: 'winter_sports', label: 'Ice skate' },

  inline_skating: { parent: 'other', label: 'Inline skate' },
  climbing: { parent: 'other', label: 'Climbing' },
  indoor_climbing: { parent: 'climbing', label: 'Indoor climbing' },

  fitness: { parent: 'other', label: 'Fitness', abstract: true },
  strength_training: { parent: 'fitness', label: 'Strength training' },
  yoga: { parent: 'fitness', label: 'Yoga' },
  pilates: { parent: 'fitness', label: 'Pilates' },
  elliptical: { parent: 'fitness', label: 'Elliptical' },
  stair_stepper: { parent: 'fitness', label: 'Stair stepper' },
  hiit: { parent: 'fitness', label: 'HIIT' },
  cardio: { parent: 'fitness', label: 'Cardio' },

  golf: { parent: 'other', label: 'Golf' },
  multisport: { parent: 'other', label: 'Multisport' },
  triathlon: { parent: 'multisport', label: 'Triathlon' },
  duathlon: { parent: 'multisport', label: 'Duathlon' },
  transition: { parent: 'other', label: 'Transition' },
} as const satisfies Record<string, { parent: string | null; label: string; abstract?: boolean }>;

export type ActivityType = keyof typeof ACTIVITY_TYPES;

export const ALL_ACTIVITY_TYPES = Object.keys(ACTIVITY_TYPES) as ActivityType[];

export function isActivityType(value: unknown): value is ActivityType {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ACTIVITY_TYPES, value);
}

export function parentOf(type: ActivityType): ActivityType | null {
  return ACTIVITY_TYPES[type].parent;
}

/** The type itself first, then each ancestor up to `other`. */
export function ancestry(type: ActivityType): ActivityType[] {
  const chain: ActivityType[] = [];
  for (let t: ActivityType | null = type; t !== null; t = parentOf(t)) chain.push(t);
  return chain;
}

/** The family is the ancestor directly below `other`; two types in one family may be the same activity. */
export function familyOf(type: ActivityType): ActivityType {
  const chain = ancestry(type);
  return chain.length >= 2 ? chain[chain.length - 2]! : type;
}

export function depthOf(type: ActivityType): number {
  return ancestry(type).length - 1;
}

/** Compatible for dedup: either is `other`, or both share a family (run ≈ walk ≈ hike, MTB ≈ ride, …). */
export function areTypesCompatible(a: ActivityType, b: ActivityType): boolean {
  if (a === 'other' || b === 'other' || a === b) return true;
  return familyOf(a) === familyOf(b);
}

/** The more specific of two compatible types: the deeper one, or `a` on a tie. */
export function mostSpecificType(a: ActivityType, b: ActivityType): ActivityType {
  return depthOf(b) > depthOf(a) ? b : a;
}

/**
 * The best type a destination accepts for `type`: the type itself, else its nearest accepted ancestor,
 * else undefined (the destination cannot take it: `type_unsupported`).
 */
export function nearestSupportedType(
  type: ActivityType,
  accepted: ReadonlySet<ActivityType>,
): ActivityType | undefined {
  return ancestry(type).find((t) => accepted.has(t));
}
