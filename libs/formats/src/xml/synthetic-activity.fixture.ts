import fc from 'fast-check';
import { type Activity, type ActivityType, type Sample } from '@tributary/activity';
import { FormatError, type FormatErrorReason } from '../format.error';

export const SYNTHETIC_START = Date.UTC(2024, 4, 1, 6, 0, 0);

/**
 * A 10-minute activity for round-trip tests: two laps, a timer pause (120 s → 180 s) inside the first lap, every
 * sensor channel (zeros included, as real power meters write them), a device. On-foot types get runCadence (even
 * numbers, since the XML formats hold one foot), others bike cadence.
 */
export function syntheticActivity(type: ActivityType = 'cycling'): Activity {
  const onFoot = type === 'running' || type === 'walking' || type === 'hiking';
  const samples: Sample[] = [];
  for (let i = 0; i <= 600; i += 1) {
    if (i > 120 && i < 180) continue;
    const sample: Sample = {
      time: SYNTHETIC_START + i * 1000,
      lat: 52.5 + i * 1.23456e-5,
      lon: 13.4 - i * 0.98765e-5,
      altitude: 30 + Math.round(Math.sin(i / 30) * 1000) / 100,
      distance: Math.round(i * 110.7) / 100,
      speed: 1.107,
      heartRate: 100 + (i % 60),
      power: i % 7 === 0 ? 0 : 150 + (i % 50),
      temperature: 18.5 + (i % 3),
    };
    if (onFoot) sample.runCadence = 160 + 2 * (i % 10);
    else sample.cadence = i % 11 === 0 ? 0 : 80 + (i % 10);
    if (i === 120) sample.marker = 'pause';
    if (i === 180) sample.marker = 'resume';
    samples.push(sample);
  }
  const lapStats = (from: number, to: number, timer: number) => ({
    distance: Math.round(to * 110.7) / 100 - Math.round(from * 110.7) / 100,
    timerTime: timer,
    elapsedTime: to - from,
    energy: 50,
  });
  return {
    start: SYNTHETIC_START,
    end: SYNTHETIC_START + 600_000,
    type,
    name: 'Synthetic <test> & "quotes"',
    notes: 'Line one\nLine two',
    device: { name: 'Edge 530', serial: '3912345678', productId: 3121, softwareVersion: '9.75' },
    laps: [
      {
        start: SYNTHETIC_START,
        end: SYNTHETIC_START + 300_000,
        trigger: 'manual',
        intensity: 'active',
        stats: lapStats(0, 300, 240),
      },
      {
        start: SYNTHETIC_START + 300_000,
        end: SYNTHETIC_START + 600_000,
        trigger: 'distance',
        intensity: 'rest',
        stats: lapStats(300, 600, 300),
      },
    ],
    samples,
    stats: { distance: Math.round(600 * 110.7) / 100, elapsedTime: 600, timerTime: 540, energy: 100 },
  };
}

/**
 * Differences between two sample lists on the given fields, as readable strings (empty when they match): times to
 * the second, positions within 1e-7°, fractional values within 0.011, integers exactly.
 */
export function sampleMismatches(
  actual: readonly Sample[],
  expected: readonly Sample[],
  fields: readonly (keyof Sample)[],
): string[] {
  if (actual.length !== expected.length) return [`sample count ${actual.length} ≠ ${expected.length}`];
  const out: string[] = [];
  expected.forEach((e, i) => {
    const a = actual[i]!;
    if (Math.round(a.time / 1000) !== Math.round(e.time / 1000)) out.push(`#${i} time ${a.time} ≠ ${e.time}`);
    for (const field of fields) {
      const ev = e[field];
      const av = a[field];
      const ok =
        ev === undefined || typeof ev !== 'number' || typeof av !== 'number'
          ? av === ev
          : field === 'lat' || field === 'lon'
            ? Math.abs(av - ev) < 1e-7
            : Number.isInteger(ev)
              ? av === ev
              : Math.abs(av - ev) < 0.011;
      if (!ok) out.push(`#${i} ${field} ${String(av)} ≠ ${String(ev)}`);
      if (out.length > 20) return;
    }
  });
  return out;
}

/** Whether `actual` is within 0.5 % of `expected` (0.01 absolute for tiny values). */
export function isClose(actual: number | undefined, expected: number | undefined): boolean {
  if (actual === undefined || expected === undefined) return false;
  return Math.abs(actual - expected) <= Math.max(0.01, Math.abs(expected) * 0.005);
}

export type Mutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'splice'; at: number; remove: number; insert: string }
  | { kind: 'flip'; at: number; byte: number };

/** Corrupt a file the way disks, networks and hostile users do: cut it, splice text into it, flip bytes. */
export function mutate(bytes: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let out = bytes;
  for (const m of mutations) {
    const at = out.length === 0 ? 0 : m.at % out.length;
    if (m.kind === 'truncate') out = out.slice(0, at);
    else if (m.kind === 'flip') {
      out = out.slice();
      if (out.length > 0) out[at] = m.byte;
    } else {
      const insert = new TextEncoder().encode(m.insert);
      const next = new Uint8Array(out.length - Math.min(m.remove, out.length - at) + insert.length);
      next.set(out.subarray(0, at));
      next.set(insert, at);
      next.set(out.subarray(Math.min(out.length, at + m.remove)), at + insert.length);
      out = next;
    }
  }
  return out;
}

/** Tokens that make mutations hit the parser's and decoders' edge cases rather than only text content. */
export const HOSTILE_TOKENS = [
  '<',
  '>',
  '&',
  '"',
  '</',
  '/>',
  ']]>',
  '<![CDATA[',
  '<!--',
  '<!DOCTYPE x>',
  '<!ENTITY a "b">',
  '&lol;',
  '&#0;',
  '&#x1F600;',
  'NaN',
  '-1e999',
  '1e308',
  '99999999999999999999',
  '<Time>x</Time>',
  '<time>2020-13-45T99:99:99Z</time>',
  '<Trackpoint>',
  '<trkpt lat="x">',
  '<sample>',
  '<__proto__>',
  '<constructor/>',
  '\u0000',
  '\uFFFF',
  '\uD800',
];

/** The FormatError reason `fn` throws, undefined when it returns; any other error propagates (a decoder bug). */
export function formatErrorReason(fn: () => unknown): FormatErrorReason | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof FormatError) return error.reason;
    throw error;
  }
  return undefined;
}

const MUTATION: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('splice' as const),
    at: fc.nat(),
    remove: fc.nat({ max: 64 }),
    insert: fc.oneof(fc.constantFrom(...HOSTILE_TOKENS), fc.string({ maxLength: 16 })),
  }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
);

/**
 * Fuzz input for an XML decoder: 1–4 truncations, hostile splices and bit flips of real documents (weighted per
 * base), random bytes, and random text behind the format's opening tags (`prefix`).
 */
export function mutatedXmlInput(
  bases: readonly { bytes: Uint8Array; weight: number }[],
  prefix: string,
): fc.Arbitrary<Uint8Array> {
  const encoder = new TextEncoder();
  return fc.oneof(
    ...bases.map(({ bytes, weight }) => ({
      weight,
      arbitrary: fc.array(MUTATION, { minLength: 1, maxLength: 4 }).map((m) => mutate(bytes, m)),
    })),
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }) },
    { weight: 1, arbitrary: fc.string({ maxLength: 256 }).map((s) => encoder.encode(`${prefix}${s}`)) },
  );
}
