import { type ActivityType, familyOf } from '@tributary/activity';
import { DEFAULT_SOURCE_PRIORITY, sourceRank } from './source-priority.util';
import { type ListedActivity, type ServiceId, type TimezoneSource } from './sync.types';
import { adjustTimezone, defineTimezone, isValidTimezone, timezoneAt, wallClockStart } from './timezone.util';
import { calculateUid, normalizeExternalId } from './uid.util';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/** The §2.4 thresholds, in ms. */
export const DEDUP_RULES = {
  /** Starts closer than this are the same activity. */
  closeStartMs: 3 * MINUTE_MS,
  /** Timezone mistakes are looked for up to this far apart. */
  tzMistakeSpanMs: 38 * HOUR_MS,
  /** A whole-hour TZ mistake leaves the starts within this of a whole number of hours. */
  wholeHourToleranceMs: MINUTE_MS,
  /** A half-hour TZ mistake (India, Newfoundland, …) leaves them within this of n h + 30 min (tapiriik: 29.5–30.5 min). */
  halfHourToleranceMs: 30_000,
  /**
   * Do better than tapiriik: without its same-calendar-date restriction, the same time on consecutive days would match
   * as a "24 h mistake", so TZ-mistake matches also need agreeing durations and distances (when both are known).
   */
  durationToleranceMs: 2 * MINUTE_MS,
  durationToleranceRatio: 0.1,
  distanceToleranceM: 200,
  distanceToleranceRatio: 0.05,
} as const;

/** How strongly two listings were found to be the same; lower is stronger and merges first. */
export enum MatchTier {
  SharedExternalId = 0,
  SharedUid = 1,
  CloseStart = 2,
  WholeHourOffset = 3,
  HalfHourOffset = 4,
}

/** A listing with its times read once: the zone it states or its position gives, its wall clock and identities. */
export interface NormalizedListing {
  listing: ListedActivity;
  /** connectionId + NUL + remoteId: unique per listing. */
  key: string;
  start: number;
  end?: number;
  naive: boolean;
  timezone?: string;
  timezoneSource?: TimezoneSource;
  /** Local wall clock of the start, when known. */
  wallClock?: number;
  uid?: string;
  externalIds: string[];
  /** The type family, or undefined for `other` (compatible with everything). */
  family?: ActivityType;
  rank: number;
}

export function listingKey(listing: ListedActivity): string {
  return `${listing.connectionId}\u0000${listing.summary.remoteId}`;
}

/** Reads a listing's times: defines naive times in a stated/located zone, labels aware ones with it. */
export function normalizeListing(
  listing: ListedActivity,
  priority: readonly ServiceId[] = DEFAULT_SOURCE_PRIORITY,
): NormalizedListing {
  const s = listing.summary;
  let zone: string | undefined;
  let timezoneSource: TimezoneSource | undefined;
  if (s.timezone !== undefined && isValidTimezone(s.timezone)) {
    zone = s.timezone;
    timezoneSource = 'listing';
  } else if (listing.startPosition !== undefined) {
    zone = timezoneAt(listing.startPosition);
    timezoneSource = zone === undefined ? undefined : 'position';
  }
  let timed: { start: number; end?: number; naive?: boolean; timezone?: string } = {
    start: s.start,
    end: s.end,
    naive: s.naive === true,
  };
  if (zone !== undefined) timed = s.naive === true ? defineTimezone(timed, zone) : adjustTimezone(timed, zone);
  const externalIds = new Set<string>();
  for (const raw of s.externalIds ?? []) {
    const id = normalizeExternalId(raw);
    if (id !== undefined) externalIds.add(id);
  }
  const family = s.type === 'other' ? undefined : familyOf(s.type);
  const n: NormalizedListing = {
    listing,
    key: listingKey(listing),
    start: timed.start,
    naive: timed.naive === true,
    externalIds: [...externalIds].sort(),
    rank: sourceRank(listing.service, priority),
  };
  if (timed.end !== undefined) n.end = timed.end;
  if (zone !== undefined) n.timezone = zone;
  if (timezoneSource !== undefined) n.timezoneSource = timezoneSource;
  const wall = wallClockStart(timed);
  if (wall !== undefined) n.wallClock = wall;
  const uid = calculateUid(timed);
  if (uid !== undefined) n.uid = uid;
  if (family !== undefined) n.family = family;
  return n;
}

/**
 * The start difference the rules compare: instants when both are aware, wall clocks when both are naive, and when
 * exactly one side is naive the wall clocks (an aware side without a zone shows its UTC reading, as tapiriik did).
 */
export function startDifference(a: NormalizedListing, b: NormalizedListing): number {
  if (a.naive === b.naive) return a.start - b.start;
  const wa = a.naive ? a.start : (a.wallClock ?? a.start);
  const wb = b.naive ? b.start : (b.wallClock ?? b.start);
  return wa - wb;
}

function typesCompatible(a: NormalizedListing, b: NormalizedListing): boolean {
  return a.family === undefined || b.family === undefined || a.family === b.family;
}

function withinTolerance(x: number, y: number, absolute: number, ratio: number): boolean {
  return Math.abs(x - y) <= Math.max(absolute, ratio * Math.max(Math.abs(x), Math.abs(y)));
}

/** Durations and distances agree where both sides know them: a TZ mistake moves a start, never a length. */
function sameShape(a: NormalizedListing, b: NormalizedListing): boolean {
  const r = DEDUP_RULES;
  if (a.end !== undefined && b.end !== undefined) {
    if (!withinTolerance(a.end - a.start, b.end - b.start, r.durationToleranceMs, r.durationToleranceRatio))
      return false;
  }
  const da = a.listing.summary.distance;
  const db = b.listing.summary.distance;
  if (da !== undefined && db !== undefined && da > 0 && db > 0) {
    if (!withinTolerance(da, db, r.distanceToleranceM, r.distanceToleranceRatio)) return false;
  }
  return true;
}

/** Whether two listings' time ranges overlap; true when either end is unknown. */
function overlap(a: NormalizedListing, b: NormalizedListing): boolean {
  if (a.end === undefined || b.end === undefined || a.naive !== b.naive) return true;
  return a.start < b.end && b.start < a.end;
}

function sharesAny(a: readonly string[], b: readonly string[]): boolean {
  if (a.length === 0 || b.length === 0) return false;
  return a.some((x) => b.includes(x));
}

export interface Match {
  tier: MatchTier;
  /** How far from a perfect match (ms); breaks ties between candidates of one tier. */
  residual: number;
}

/**
 * Whether two listings are the same activity, and how strongly. Order-symmetric. TZ-mistake matches (whole hours up
 * to 38 h, n h + 30 min) work across midnight — tapiriik zeroed only the hour field so it missed them — and only
 * between different connections, since a service never disagrees with itself about its own clock.
 */
export function matchListings(a: NormalizedListing, b: NormalizedListing): Match | undefined {
  const r = DEDUP_RULES;
  const diff = Math.abs(startDifference(a, b));
  if (sharesAny(a.externalIds, b.externalIds) && diff < r.tzMistakeSpanMs) {
    return { tier: MatchTier.SharedExternalId, residual: diff };
  }
  if (!typesCompatible(a, b)) return undefined;
  if (a.uid !== undefined && a.uid === b.uid) return { tier: MatchTier.SharedUid, residual: 0 };
  if (diff < r.closeStartMs) {
    // Two entries of one service that follow each other (a run saved in two parts) are two activities; only
    // overlapping ones can be the same activity uploaded twice.
    if (a.listing.connectionId === b.listing.connectionId && !overlap(a, b)) return undefined;
    return { tier: MatchTier.CloseStart, residual: diff };
  }
  if (diff >= r.tzMistakeSpanMs || a.listing.connectionId === b.listing.connectionId) return undefined;
  const withinHour = diff % HOUR_MS;
  const toWholeHour = Math.min(withinHour, HOUR_MS - withinHour);
  if (toWholeHour < r.wholeHourToleranceMs && sameShape(a, b)) {
    return { tier: MatchTier.WholeHourOffset, residual: toWholeHour };
  }
  const toHalfHour = Math.abs(withinHour - HOUR_MS / 2);
  if (toHalfHour <= r.halfHourToleranceMs && sameShape(a, b)) {
    return { tier: MatchTier.HalfHourOffset, residual: toHalfHour };
  }
  return undefined;
}

/** Aware and naive starts differ by at most the largest UTC offset (+14 h); widen the search window by that. */
const SEARCH_WINDOW_MS = DEDUP_RULES.tzMistakeSpanMs + 15 * HOUR_MS;

interface Edge {
  a: number;
  b: number;
  tier: MatchTier;
  residual: number;
}

function compareEdges(x: Edge, y: Edge, keys: readonly string[]): number {
  if (x.tier !== y.tier) return x.tier - y.tier;
  if (x.residual !== y.residual) return x.residual - y.residual;
  const xa = keys[x.a]!;
  const ya = keys[y.a]!;
  if (xa !== ya) return xa < ya ? -1 : 1;
  const xb = keys[x.b]!;
  const yb = keys[y.b]!;
  return xb < yb ? -1 : xb > yb ? 1 : 0;
}

/**
 * Partitions listings into groups of the same activity. Candidate pairs come from a sorted sweep over a ±53 h window
 * (O(n log n) plus the few neighbours each activity has), and edges are applied strongest first (tier, residual, then
 * listing keys) so the result depends on the set of listings only, never on the order they arrive in.
 * A weak (TZ-mistake) edge never joins two groups that already hold a listing of the same connection.
 */
export function groupListings(listings: readonly NormalizedListing[]): NormalizedListing[][] {
  const n = listings.length;
  const order = [...listings.keys()].sort((i, j) => listings[i]!.start - listings[j]!.start);
  const keys = listings.map((l) => l.key);
  const edges: Edge[] = [];
  for (let oi = 0; oi < n; oi++) {
    const i = order[oi]!;
    const li = listings[i]!;
    for (let oj = oi + 1; oj < n; oj++) {
      const j = order[oj]!;
      const lj = listings[j]!;
      if (lj.start - li.start > SEARCH_WINDOW_MS) break;
      const m = matchListings(li, lj);
      if (m !== undefined) edges.push(keys[i]! < keys[j]! ? { a: i, b: j, ...m } : { a: j, b: i, ...m });
    }
  }
  edges.sort((x, y) => compareEdges(x, y, keys));

  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const members: number[][] = listings.map((_, i) => [i]);
  const connections: Set<string>[] = listings.map((l) => new Set([l.listing.connectionId]));
  const families: Set<ActivityType>[] = listings.map((l) => new Set(l.family === undefined ? [] : [l.family]));
  const root = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]!]!;
      x = parent[x]!;
    }
    return x;
  };
  for (const e of edges) {
    let ra = root(e.a);
    let rb = root(e.b);
    if (ra === rb) continue;
    if (e.tier !== MatchTier.SharedExternalId) {
      const fa = families[ra]!;
      const fb = families[rb]!;
      if (fa.size > 0 && fb.size > 0 && ![...fa].some((f) => fb.has(f))) continue;
    }
    if (e.tier >= MatchTier.WholeHourOffset && [...connections[ra]!].some((c) => connections[rb]!.has(c))) continue;
    if (members[ra]!.length < members[rb]!.length) [ra, rb] = [rb, ra];
    parent[rb] = ra;
    members[ra]!.push(...members[rb]!);
    for (const c of connections[rb]!) connections[ra]!.add(c);
    for (const f of families[rb]!) families[ra]!.add(f);
  }
  const groups: NormalizedListing[][] = [];
  for (let i = 0; i < n; i++) if (parent[i] === i) groups.push(members[i]!.map((k) => listings[k]!));
  return groups;
}
