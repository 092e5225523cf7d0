import { type ActivitySummary, type ActivityType } from '@tributary/activity';
import {
  type ConnectionSettings,
  type ConnectionState,
  type DestinationCapabilities,
  type ListedActivity,
} from './sync.types';

/*
 * Builders for the sync specs and the bench. Not exported from the library's index: they exist so tests state only
 * the fields that matter to the rule under test.
 */

export const MIN = 60_000;
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export const utc = (iso: string): number => Date.parse(`${iso}Z`);

let counter = 0;

export function listed(
  connectionId: string,
  summary: Partial<ActivitySummary> & { start: number },
  extra: Partial<Omit<ListedActivity, 'summary'>> = {},
): ListedActivity {
  counter += 1;
  const service = extra.service ?? connectionId.replace(/-\d+$/, '');
  const full: ActivitySummary = { remoteId: `r${counter}`, type: 'running', ...summary };
  const out: ListedActivity = { connectionId, service, summary: full };
  if (extra.startPosition !== undefined) out.startPosition = extra.startPosition;
  return out;
}

export const ALL_COMMON_TYPES: ReadonlySet<ActivityType> = new Set<ActivityType>([
  'running',
  'trail_running',
  'walking',
  'hiking',
  'cycling',
  'mountain_biking',
  'virtual_ride',
  'swimming',
  'other',
]);

export function capabilities(overrides: Partial<DestinationCapabilities> = {}): DestinationCapabilities {
  return {
    receives: true,
    supplies: true,
    acceptedTypes: ALL_COMMON_TYPES,
    acceptsStationary: true,
    acceptsNonGps: true,
    requiresConfiguration: false,
    ...overrides,
  };
}

export function connection(
  id: string,
  overrides: {
    capabilities?: Partial<DestinationCapabilities>;
    settings?: Partial<ConnectionSettings>;
    synchronizedUids?: Iterable<string>;
    excluded?: ConnectionState['excluded'];
    service?: string;
  } = {},
): ConnectionState {
  const state: ConnectionState = {
    id,
    service: overrides.service ?? id.replace(/-\d+$/, ''),
    capabilities: capabilities(overrides.capabilities),
    settings: { syncPrivate: false, ...overrides.settings },
    synchronizedUids: new Set(overrides.synchronizedUids ?? []),
  };
  if (overrides.excluded !== undefined) state.excluded = overrides.excluded;
  return state;
}
