export const WORKER_DEPS = Symbol('WORKER_DEPS');
