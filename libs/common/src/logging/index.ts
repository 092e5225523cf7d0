export * from './logger.factory';
export * from './nest-logger.adapter';
export * from './redaction.util';
export * from './request-context.util';
