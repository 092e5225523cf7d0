/** Injection tokens of the webhooks module. */
export const WEBHOOK_CONNECTORS = Symbol('WEBHOOK_CONNECTORS');
export const WEBHOOK_SETTINGS = Symbol('WEBHOOK_SETTINGS');
