import { type ActivityType, mostSpecificType } from '@tributary/activity';
import { type NormalizedListing, groupListings, normalizeListing } from './dedup.util';
import { DEFAULT_SOURCE_PRIORITY } from './source-priority.util';
import { type ConnectionPresence, type ListedActivity, type MergedActivity, type ServiceId } from './sync.types';
import { ensureTimezone, mostCommonTimezone, resolveTimezone } from './timezone.util';
import { calculateUid } from './uid.util';

export interface MergeOptions {
  /** Source preference; also the order in which names and notes are taken. */
  sourcePriority?: readonly ServiceId[];
  /** The user's configured or browser timezone (last step of the timezone chain). */
  userTimezone?: string;
}

function compareCoalescingOrder(a: NormalizedListing, b: NormalizedListing): number {
  if (a.rank !== b.rank) return a.rank - b.rank;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

function firstText(values: Iterable<string | undefined>): string | undefined {
  for (const v of values) if (v !== undefined && v.trim() !== '') return v;
  return undefined;
}

/** AND over the values that are known; undefined when none is. */
function andKnown(values: Iterable<boolean | undefined>): boolean | undefined {
  let seen = false;
  for (const v of values) {
    if (v === false) return false;
    if (v === true) seen = true;
  }
  return seen ? true : undefined;
}

/** OR over the values that are known; undefined when none is. */
function orKnown(values: Iterable<boolean | undefined>): boolean | undefined {
  let seen = false;
  for (const v of values) {
    if (v === true) return true;
    if (v === false) seen = true;
  }
  return seen ? false : undefined;
}

/**
 * Coalesces one group (tapiriik's rules): aware times over naive ones (and zoned over unzoned), the first non-empty
 * name and notes in source-preference order, the most specific type, private/gps/trainer OR, stationary AND, and the
 * union of UIDs, external ids and per-connection remote ids. Private is OR so a private copy anywhere keeps it private.
 */
export function coalesceGroup(group: readonly NormalizedListing[]): MergedActivity {
  const ordered = [...group].sort(compareCoalescingOrder);
  const timeRep =
    ordered.find((l) => !l.naive && l.timezone !== undefined) ?? ordered.find((l) => !l.naive) ?? ordered[0]!;
  const summaries = ordered.map((l) => l.listing.summary);
  let type: ActivityType = summaries[0]!.type;
  for (const s of summaries.slice(1)) type = mostSpecificType(type, s.type);

  const zoned = ordered.find((l) => l.timezone !== undefined);
  let end = timeRep.end;
  if (end === undefined) {
    const withEnd = ordered.find((l) => l.end !== undefined);
    if (withEnd !== undefined) end = timeRep.start + (withEnd.end! - withEnd.start);
  }

  const presenceMap = new Map<string, ConnectionPresence>();
  for (const l of ordered) {
    const p = presenceMap.get(l.listing.connectionId);
    if (p === undefined) {
      presenceMap.set(l.listing.connectionId, {
        connectionId: l.listing.connectionId,
        service: l.listing.service,
        remoteIds: [l.listing.summary.remoteId],
      });
    } else if (!p.remoteIds.includes(l.listing.summary.remoteId)) {
      p.remoteIds.push(l.listing.summary.remoteId);
    }
  }
  const presence = [...presenceMap.values()]
    .map((p) => ({ ...p, remoteIds: [...p.remoteIds].sort() }))
    .sort((a, b) => (a.connectionId < b.connectionId ? -1 : a.connectionId > b.connectionId ? 1 : 0));

  const merged: MergedActivity = {
    uids: [],
    externalIds: [...new Set(ordered.flatMap((l) => l.externalIds))].sort(),
    start: timeRep.start,
    type,
    private: summaries.some((s) => s.private === true),
    complete: summaries.every((s) => s.complete !== false),
    presence,
    sources: ordered.map((l) => l.listing),
  };
  if (end !== undefined) merged.end = end;
  if (timeRep.naive) merged.naive = true;
  if (zoned !== undefined) {
    // An aware start adopts another listing's zone as a label; a naive one only happens when no listing had a zone.
    merged.timezone = zoned.timezone;
    if (zoned.timezoneSource !== undefined) merged.timezoneSource = zoned.timezoneSource;
  }
  const name = firstText(summaries.map((s) => s.name));
  if (name !== undefined) merged.name = name;
  const notes = firstText(summaries.map((s) => s.notes));
  if (notes !== undefined) merged.notes = notes;
  const stationary = andKnown(summaries.map((s) => s.stationary));
  if (stationary !== undefined) merged.stationary = stationary;
  const gps = orKnown(summaries.map((s) => s.gps));
  if (gps !== undefined) merged.gps = gps;
  const trainer = orKnown(summaries.map((s) => s.trainer));
  if (trainer !== undefined) merged.trainer = trainer;
  const distance = summaries.find((s) => s.distance !== undefined)?.distance;
  if (distance !== undefined) merged.distance = distance;
  return finishIdentity(
    merged,
    ordered.map((l) => l.uid),
  );
}

function finishIdentity(merged: MergedActivity, extraUids: Iterable<string | undefined>): MergedActivity {
  const uid = calculateUid(merged);
  const uids = new Set<string>(merged.uids);
  for (const u of extraUids) if (u !== undefined) uids.add(u);
  if (uid !== undefined) {
    uids.add(uid);
    merged.uid = uid;
  }
  merged.uids = [...uids].sort();
  return merged;
}

/**
 * The user's fallback zone steps (§3): activities still without a zone take the user's most common zone among their
 * located activities, else their configured zone; naive ones are defined in it, aware ones labelled with it.
 * Activities for which nothing is known stay without a zone (planning reports `tz_unknown`).
 */
export function applyFallbackTimezones(activities: readonly MergedActivity[], userTimezone?: string): MergedActivity[] {
  const userCommon = mostCommonTimezone(
    activities.filter((a) => a.timezoneSource === 'listing' || a.timezoneSource === 'position').map((a) => a.timezone),
  );
  return activities.map((a) => {
    if (a.timezone !== undefined) return a;
    const resolved = resolveTimezone({}, { userCommon, userSetting: userTimezone });
    if (resolved === undefined) return a;
    const zoned = ensureTimezone({ ...a }, resolved.zone);
    delete zoned.naive;
    zoned.timezoneSource = resolved.source;
    return finishIdentity(zoned, a.uids);
  });
}

function firstSourceKey(a: MergedActivity): string {
  const s = a.sources[0];
  return s === undefined ? '' : `${s.connectionId}\u0000${s.summary.remoteId}`;
}

/** Newest first (as tapiriik processes them), ties by first source so the order is canonical. */
function sortMerged(activities: MergedActivity[]): MergedActivity[] {
  const keyed = activities.map((a) => ({ a, k: firstSourceKey(a) }));
  keyed.sort((x, y) => y.a.start - x.a.start || (x.k < y.k ? -1 : x.k > y.k ? 1 : 0));
  return keyed.map((x) => x.a);
}

/**
 * What every connection listed → the user's activities: deduplicated, coalesced, timezoned, newest first.
 * The result depends only on the set of listings (not their order), and a listing repeated (same connection and
 * remote id) counts once.
 */
export function mergeListings(listings: readonly ListedActivity[], options: MergeOptions = {}): MergedActivity[] {
  const priority = options.sourcePriority ?? DEFAULT_SOURCE_PRIORITY;
  const byKey = new Map<string, NormalizedListing>();
  for (const listing of listings) {
    const n = normalizeListing(listing, priority);
    const existing = byKey.get(n.key);
    // The same remote activity listed twice (paging overlap): keep one, chosen by content so order cannot matter.
    if (existing === undefined || JSON.stringify(n.listing) < JSON.stringify(existing.listing)) byKey.set(n.key, n);
  }
  const merged = groupListings([...byKey.values()]).map(coalesceGroup);
  return sortMerged(applyFallbackTimezones(merged, options.userTimezone));
}

/** Every identity of an activity (UIDs and external ids): what presence sets and exclusions are keyed by. */
export function activityKeys(activity: Pick<MergedActivity, 'uids' | 'externalIds'>): string[] {
  return [...activity.uids, ...activity.externalIds];
}
