import type { WorkerRole } from '@tributary/config';
import { JobName } from './queue-name.enum';

/**
 * Which jobs each WORKER_ROLES role processes. A worker with a role enabled must have a handler for every job listed
 * here (checked at boot). `scheduler` also upserts the BullMQ job schedulers at boot.
 */
export const ROLE_JOBS: Readonly<Record<WorkerRole, readonly JobName[]>> = {
  sync: [JobName.SyncUser, JobName.WebhookEvent, JobName.Notify],
  watchdog: [JobName.Watchdog],
  stats: [JobName.StatsCron],
  scheduler: [JobName.ScheduleSyncs],
};

export function jobsForRoles(roles: readonly WorkerRole[]): JobName[] {
  return [...new Set(roles.flatMap((role) => ROLE_JOBS[role]))];
}
