export * from './activity-type';
export * from './activity.model';
export * from './activity-samples.util';
export * from './activity-stats.util';
export * from './activity-sanity.util';
export * from './activity-multisport.util';
export * from './activity-flags.util';
