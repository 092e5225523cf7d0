/** Injection tokens of the web app; values are built in main.ts before Nest starts (config at boot, rule 12). */
export const APP_CONFIG = Symbol('APP_CONFIG');
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');
export const READINESS_CHECKS = Symbol('READINESS_CHECKS');
export const JOB_SERVICE = Symbol('JOB_SERVICE');
export const OWNED_RESOURCES = Symbol('OWNED_RESOURCES');
