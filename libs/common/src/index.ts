export * from './errors/domain.error';
export * from './logging';
export * from './redis';
export * from './crypto';
export * from './metrics';
export * from './lifecycle/owned-resource.util';
