export * from './activity-type';
export * from './activity.model';
