import { type ActivityPresenceView } from '@tributary/db';

/** The states the pages show (and Playwright finds as `data-state`). */
export type ShownState = 'present' | 'missing' | 'pending' | 'excluded';

export interface PresenceText {
  state: ShownState;
  /** One or two words for the cell. */
  label: string;
  /** Why, in plain language. */
  why: string;
}

/** Why an activity is not copied to a service (the planner's skip reasons and the sync's gates). */
const SKIP_TEXT: Readonly<Record<string, string>> = {
  not_a_destination: 'This service only sends activities; nothing is copied to it.',
  type_unsupported: 'This service does not accept this type of activity.',
  service_excluded: 'This service could not be reached during the last sync; it is tried again at the next one.',
  flow: 'You turned off copying between these services (send to / receive from settings).',
  config_missing: 'This service needs setting up before it can receive activities (see its settings).',
  stationary: 'The activity has no movement (a stationary workout), and this service does not accept those.',
  nongps: 'The activity has no GPS track, and this service only accepts activities with one.',
  excluded: 'The activity was excluded at this service.',
  retry_limit: 'Copying failed too many times, so the hub stopped trying. Use "Resync" to try again.',
  tz_unknown: 'The time zone of the activity could not be worked out, so its start time would be wrong there.',
  live: 'The activity was still being recorded or processed; it is picked up at a later sync.',
  predates_window: 'The activity is older than the "skip activities before" date in your settings.',
  private: 'The activity is private, and none of your services is set to sync private activities.',
  no_source: 'No service could supply the activity file right now; it is tried again at the next sync.',
  sanity: 'The file from the source looked broken (impossible times or positions), so it was not copied.',
};

/** Why copying failed: the sync's failure classes. */
const FAILURE_TEXT: Readonly<Record<string, string>> = {
  auth: 'the service no longer accepts the hub’s sign-in; reconnect it on the dashboard',
  renew_password: 'the service wants a new password; reconnect it on the dashboard',
  locked: 'the account at the service is locked',
  full: 'the account at the service is full',
  expired: 'the subscription at the service has expired',
  unpaid: 'the service needs a paid plan for this',
  non_athlete_account: 'the account at the service is not an athlete account',
  upload_consent: 'the service needs your consent to receive uploads',
  ratelimited: 'the service asked the hub to slow down',
  data_insufficient: 'the activity has too little data for the service',
  download: 'the file could not be downloaded from the source',
  upload: 'the service refused or did not answer the upload',
  corrupt: 'the file is damaged',
  sanity: 'the file looked broken',
  untagged: 'the service could not tell what kind of file it was',
  live: 'the activity was still being processed',
  tz_unknown: 'the time zone could not be worked out',
  system: 'something went wrong inside the hub',
  other: 'an unexpected error',
};

function when(at: Date | null): string {
  if (at === null) return 'at the next sync';
  return `after ${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Plain-language text for one activity's state at one service. */
export function describePresence(p: ActivityPresenceView): PresenceText {
  const code = p.reasonCode ?? '';
  switch (p.state) {
    case 'present':
      if (code === 'source') return { state: 'present', label: 'Present', why: 'The activity came from here.' };
      if (code === 'uploaded') {
        const at = p.uploadedAt === null ? '' : ` on ${p.uploadedAt.toISOString().slice(0, 10)}`;
        return { state: 'present', label: 'Present', why: `Copied here by the hub${at}.` };
      }
      return { state: 'present', label: 'Present', why: 'The service already has it.' };
    case 'pending':
      if (code === 'upload_delay') {
        return {
          state: 'pending',
          label: 'Waiting',
          why: `Your upload delay holds it back; it is copied ${when(p.nextAttemptAt)}.`,
        };
      }
      if (code === 'rate_limited') {
        return {
          state: 'pending',
          label: 'Waiting',
          why: `The service asked the hub to slow down; the next try is ${when(p.nextAttemptAt)}.`,
        };
      }
      return { state: 'pending', label: 'Waiting', why: `It is copied ${when(p.nextAttemptAt)}.` };
    case 'failed': {
      const cause = FAILURE_TEXT[code] ?? 'an unexpected error';
      const tries = p.failureCount === 1 ? '1 attempt' : `${p.failureCount} attempts`;
      const detail = p.reasonDetail === null ? '' : ` (${p.reasonDetail})`;
      return {
        state: 'missing',
        label: 'Failed',
        why: `Copying failed after ${tries}: ${cause}${detail}. The next try is ${when(p.nextAttemptAt)}.`,
      };
    }
    case 'excluded': {
      const why = SKIP_TEXT[code] ?? `Not copied (${code === '' ? 'no reason recorded' : code}).`;
      return {
        state: 'excluded',
        label: 'Not copied',
        why: p.reasonDetail === null ? why : `${why} ${p.reasonDetail}`,
      };
    }
    case 'missing':
      if (code === 'resync_requested') {
        return { state: 'missing', label: 'Missing', why: 'You asked for a resync; the next sync tries again.' };
      }
      return { state: 'missing', label: 'Missing', why: 'Not there yet; the next sync copies it.' };
  }
}

/** A connection the hub has not decided anything about for this activity (connected after its last sync). */
export function undecidedPresence(): PresenceText {
  return { state: 'pending', label: 'Not checked', why: 'The hub has not looked at this service for it yet.' };
}
