/*
 * Dedup + planning over a realistic history: 3 connections × N activities (default 5,000), with Strava giving zoned
 * instants, Garmin Connect unzoned UTC (some with a start position), and a Dropbox folder of naive wall clocks of which
 * some carry timezone mistakes (whole and half hours, across midnight), plus duplicates inside Strava.
 * Each variant runs in its own child process so its peak RSS is its own. The naive baseline compares every pair
 * (O(n²)) and must produce exactly the same merged set as the windowed sweep.
 *
 *   node --require ./scripts/register-ts.js bench/sync.bench.ts [perConnection]
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { type ActivitySummary, type ActivityType } from '@tributary/activity';
import {
  type ConnectionState,
  type DestinationCapabilities,
  type ListedActivity,
  type MergedActivity,
  type NormalizedListing,
  coalesceGroup,
  applyFallbackTimezones,
  groupListings,
  matchListings,
  mergeListings,
  normalizeListing,
  planSync,
  wallClockFromInstant,
} from '@tributary/sync';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Deterministic PRNG (mulberry32) so every run measures the same history. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOME = { zone: 'Europe/Berlin', lat: 52.52, lon: 13.405 };
const TRIPS = [
  { zone: 'America/New_York', lat: 40.71, lon: -74.0 },
  { zone: 'Asia/Kolkata', lat: 22.57, lon: 88.36 },
  { zone: 'Australia/Sydney', lat: -33.87, lon: 151.21 },
];
const TYPES: ActivityType[] = [
  'running',
  'running',
  'cycling',
  'trail_running',
  'mountain_biking',
  'swimming',
  'walking',
];

function generate(perConnection: number): ListedActivity[] {
  const rand = rng(42);
  const total = Math.round(perConnection * 1.1);
  const listings: ListedActivity[] = [];
  let t = Date.UTC(2018, 0, 1, 6);
  for (let i = 0; i < total; i++) {
    t += Math.round((0.4 + rand() * 1.6) * DAY * (1750 / total) * 1.0) + Math.round(rand() * 12) * HOUR;
    const place = rand() < 0.1 ? TRIPS[Math.floor(rand() * TRIPS.length)]! : HOME;
    const start = t - (t % 1000);
    const end = start + Math.round((20 + rand() * 160) * 60_000);
    const type = TYPES[Math.floor(rand() * TYPES.length)]!;
    const distance = Math.round((end - start) / 1000) * (type === 'cycling' ? 7 : 3);
    const common: Omit<ActivitySummary, 'remoteId' | 'start'> = {
      type,
      distance,
      private: rand() < 0.05,
      name: `Activity ${i}`,
    };
    const onStrava = rand() < 0.91;
    const onGarmin = rand() < 0.91;
    const onDropbox = rand() < 0.91;
    const push = `garmin_push_${100000 + i}`;
    if (onStrava) {
      const s: ActivitySummary = { remoteId: `s${i}`, start, end, timezone: place.zone, ...common };
      if (onGarmin && rand() < 0.5) s.externalIds = [`${push}.fit`];
      listings.push({ connectionId: 'c-strava', service: 'strava', summary: s });
      if (rand() < 0.02) {
        listings.push({
          connectionId: 'c-strava',
          service: 'strava',
          summary: { ...s, remoteId: `s${i}dup`, start: start + 30_000 },
        });
      }
    }
    if (onGarmin) {
      const g: ListedActivity = {
        connectionId: 'c-garmin',
        service: 'garmin_connect',
        summary: { remoteId: `g${i}`, start: start + Math.round(rand() * 20_000), end, externalIds: [push], ...common },
      };
      if (rand() < 0.3) g.startPosition = { lat: place.lat + rand() * 0.1, lon: place.lon + rand() * 0.1 };
      listings.push(g);
    }
    if (onDropbox) {
      // Files keep the local wall clock; some were written by tools that got the zone wrong.
      const mistake = rand() < 0.08 ? [1, -1, 2, 5.5, 10, -9.5][Math.floor(rand() * 6)]! : 0;
      const wall = wallClockFromInstant(start, place.zone) + mistake * HOUR;
      listings.push({
        connectionId: 'c-dropbox',
        service: 'dropbox',
        summary: {
          remoteId: `/Apps/tributary/d${i}.fit`,
          start: wall,
          end: wall + (end - start),
          naive: true,
          ...common,
        },
      });
    }
  }
  return listings;
}

/** The O(n²) baseline: every pair compared, then the same strongest-first grouping, so results must agree. */
function naiveMerge(listings: readonly ListedActivity[]): MergedActivity[] {
  const normalized = listings.map((l) => normalizeListing(l));
  const n = normalized.length;
  // Feed groupListings pairs only through identical matches: compare all pairs and keep those that match.
  const matched = new Set<number>();
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (matchListings(normalized[i]!, normalized[j]!) !== undefined) {
        matched.add(i);
        matched.add(j);
      }
    }
  }
  const lonely = normalized.filter((_, i) => !matched.has(i)).map((l) => [l]);
  const pairedGroups: NormalizedListing[][] = groupListings(normalized.filter((_, i) => matched.has(i)));
  const merged = [...pairedGroups, ...lonely].map(coalesceGroup);
  return applyFallbackTimezones(merged).sort((a, b) => b.start - a.start || (key(a) < key(b) ? -1 : 1));
}

function key(m: MergedActivity): string {
  return `${m.sources[0]!.connectionId}\u0000${m.sources[0]!.summary.remoteId}`;
}

const ACCEPTS_ALL: DestinationCapabilities = {
  receives: true,
  supplies: true,
  acceptedTypes: new Set<ActivityType>(['running', 'cycling', 'swimming', 'walking', 'other']),
  acceptsStationary: true,
  acceptsNonGps: true,
  requiresConfiguration: false,
};

function connections(merged: readonly MergedActivity[]): ConnectionState[] {
  // Half the history was already synchronized in earlier syncs.
  const seen = (id: string): Set<string> =>
    new Set(merged.filter((_, i) => i % 2 === 0 && id !== '').flatMap((m) => m.uids.slice(0, 1)));
  return [
    {
      id: 'c-strava',
      service: 'strava',
      capabilities: ACCEPTS_ALL,
      settings: { syncPrivate: false },
      synchronizedUids: seen('s'),
    },
    {
      id: 'c-garmin',
      service: 'garmin_connect',
      capabilities: { ...ACCEPTS_ALL, receives: false },
      settings: { syncPrivate: true },
      synchronizedUids: seen('g'),
    },
    {
      id: 'c-dropbox',
      service: 'dropbox',
      capabilities: { ...ACCEPTS_ALL, acceptsStationary: false },
      settings: { syncPrivate: false },
      synchronizedUids: seen('d'),
    },
  ];
}

function digest(merged: readonly MergedActivity[]): string {
  return createHash('sha1').update(JSON.stringify(merged)).digest('hex').slice(0, 12);
}

interface Result {
  variant: string;
  perConnection: number;
  listings: number;
  merged: number;
  dedupMs: number;
  dedupCpuMs: number;
  planMs: number;
  planCpuMs: number;
  uploads: number;
  peakRssMb: number;
  digest: string;
}

function runVariant(variant: 'windowed' | 'naive', perConnection: number): Result {
  const listings = generate(perConnection);
  global.gc?.();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const merged = variant === 'windowed' ? mergeListings(listings) : naiveMerge(listings);
  const t1 = performance.now();
  const c1 = process.cpuUsage(c0);
  const plan = planSync({
    activities: merged,
    connections: connections(merged),
    settings: { uploadDelayMs: HOUR },
    now: Date.UTC(2026, 0, 1),
  });
  const t2 = performance.now();
  const c2 = process.cpuUsage(c0);
  const cpuMs = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;
  return {
    variant,
    perConnection,
    listings: listings.length,
    merged: merged.length,
    dedupMs: t1 - t0,
    dedupCpuMs: cpuMs(c1),
    planMs: t2 - t1,
    planCpuMs: cpuMs(c2) - cpuMs(c1),
    uploads: plan.activities.reduce((n, a) => n + a.destinations.filter((d) => d.kind === 'upload').length, 0),
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    digest: digest(merged),
  };
}

function main(): void {
  const child = process.argv.find((a) => a.startsWith('--variant='));
  if (child !== undefined) {
    const [variant, size] = child.slice('--variant='.length).split(':') as ['windowed' | 'naive', string];
    process.stdout.write(JSON.stringify(runVariant(variant, Number(size))));
    return;
  }
  const perConnection = Number(process.argv[2] ?? 5000);
  const runs: [string, number][] = [
    ['windowed', 1000],
    ['naive', 1000],
    ['windowed', perConnection],
    ['naive', perConnection],
  ];
  const results: Result[] = [];
  for (const [variant, size] of runs) {
    const out = spawnSync(process.execPath, [...process.execArgv, __filename, `--variant=${variant}:${size}`], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    if (out.status !== 0) {
      process.stderr.write(out.stderr);
      process.exit(1);
    }
    results.push(JSON.parse(out.stdout) as Result);
  }
  const rows = results.map((r) => ({
    variant: r.variant,
    'connections × activities': `3 × ${r.perConnection}`,
    listings: r.listings,
    merged: r.merged,
    'dedup ms': Math.round(r.dedupMs),
    'dedup cpu ms': Math.round(r.dedupCpuMs),
    'plan ms': Math.round(r.planMs),
    'plan cpu ms': Math.round(r.planCpuMs),
    uploads: r.uploads,
    'peak RSS MB': Math.round(r.peakRssMb),
    digest: r.digest,
  }));
  console.table(rows);
  for (const size of new Set(results.map((r) => r.perConnection))) {
    const same = results.filter((r) => r.perConnection === size);
    const agree = same.every((r) => r.digest === same[0]!.digest);
    console.log(`3 × ${size}: windowed and naive merged sets ${agree ? 'are identical' : 'DIFFER'}`);
    if (!agree) process.exitCode = 1;
  }
}

main();
