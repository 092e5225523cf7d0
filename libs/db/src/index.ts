export * from './database';
export * from './db.module';
export * from './embedded/embedded-postgres';
export * from './migrator';
export * from './repositories';
export * from './repositories.factory';
export * from './schema';
