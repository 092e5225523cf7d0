export {
  SANDBOX_PREFIXES,
  createSandboxApp,
  startSandbox,
  type Sandbox,
  type SandboxHandle,
  type SandboxOptions,
} from './sandbox.app';
export { dropboxContentHash } from './dropbox/content-hash.util';
export { STRAVA_STATUS } from './strava/strava.simulator';
