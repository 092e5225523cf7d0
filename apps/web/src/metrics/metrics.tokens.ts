export const WEB_METRICS = Symbol('WEB_METRICS');
export const METRICS_TOKEN = Symbol('METRICS_TOKEN');
