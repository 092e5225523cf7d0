export * from './config';
export * from './env.schema';
export * from './app-main.util';
