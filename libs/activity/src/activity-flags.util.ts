import { type Activity } from './activity.model';
import { hasMeasurement } from './activity-samples.util';

/**
 * The tri-state flags as the samples show them: `gps` when any sample has a position, `stationary` (tapiriik's
 * meaning: no recorded track at all, a summary-only entry) when no sample carries data.
 */
export function inferFlags(activity: Pick<Activity, 'samples'>): { gps: boolean; stationary: boolean } {
  const gps = activity.samples.some((s) => s.lat !== undefined && s.lon !== undefined);
  const stationary = !activity.samples.some(hasMeasurement);
  return { gps, stationary };
}

/** A copy with `gps`/`stationary` set from the samples where the source left them undecided. */
export function withInferredFlags(activity: Activity): Activity {
  const inferred = inferFlags(activity);
  return {
    ...activity,
    gps: activity.gps ?? inferred.gps,
    stationary: activity.stationary ?? inferred.stationary,
  };
}
