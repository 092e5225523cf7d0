export * from './metrics.registry';
export * from './connector.metrics';
export * from './sync.metrics';
export * from './queue.metrics';
export * from './hub-stats.metrics';
export * from './http.metrics';
export * from './metrics-token.util';
