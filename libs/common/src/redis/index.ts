export * from './redis.connection';
