/*
 * Activity file codecs: decode and encode time per format for a generated 1 h, 1 Hz ride (GPS, HR, cadence, power,
 * altitude, temperature, 4 laps, one pause) and for the largest FIT fixture, next to the two FIT libraries alone
 * (@garmin/fitsdk Decoder.read and fit-file-parser parse). Median of N runs after one warm-up. Prints one table.
 *
 *   node --require ./scripts/register-ts.js bench/formats.bench.ts [runs]
 *   npm run bench formats
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { Decoder, Stream } from '@garmin/fitsdk';
import FitParser from 'fit-file-parser';
import { type Activity, type ActivityFormat, type Sample } from '@tributary/activity';
import { decodeActivity, encodeActivity } from '@tributary/formats';

const runs = Number(process.argv[2] ?? 5);
const fixtureDir = resolve(__dirname, '..', '..', 'shared', 'fixtures', 'fit');

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(fn: () => unknown): number {
  fn();
  const ms: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const t0 = performance.now();
    fn();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

/** A deterministic 1 h ride: a loop around a point, rolling terrain, a 2 min pause at 30 min. */
function generatedRide(): Activity {
  const t0 = Date.UTC(2025, 5, 1, 6, 0, 0);
  const samples: Sample[] = [];
  let distance = 0;
  for (let i = 0; i <= 3600; i += 1) {
    if (i > 1800 && i < 1920) continue;
    const angle = (i / 3600) * 2 * Math.PI;
    const speed = 8 + 2 * Math.sin(i / 90);
    distance += speed;
    const s: Sample = {
      time: t0 + i * 1000,
      lat: 46.5 + 0.05 * Math.sin(angle),
      lon: 7.5 + 0.07 * Math.cos(angle),
      altitude: 600 + 80 * Math.sin(i / 400),
      distance,
      speed,
      heartRate: 130 + Math.round(20 * Math.sin(i / 200)),
      cadence: 85 + (i % 7),
      power: 180 + ((i * 37) % 120),
      temperature: 18 + Math.round(i / 1200),
    };
    if (i === 0) s.marker = 'start';
    if (i === 1800) s.marker = 'pause';
    if (i === 1920) s.marker = 'resume';
    if (i === 3600) s.marker = 'end';
    samples.push(s);
  }
  const laps = [0, 1, 2, 3].map((k) => ({
    start: t0 + k * 900_000,
    end: t0 + (k + 1) * 900_000,
    trigger: 'time' as const,
    intensity: 'active' as const,
    stats: {},
  }));
  return { start: t0, end: t0 + 3_600_000, type: 'road_cycling', laps, samples, stats: {} };
}

function largestFixture(): { name: string; bytes: Uint8Array } {
  const name = readdirSync(fixtureDir)
    .filter((f) => f.endsWith('.fit'))
    .sort((a, b) => statSync(join(fixtureDir, b)).size - statSync(join(fixtureDir, a)).size)[0]!;
  return { name, bytes: new Uint8Array(readFileSync(join(fixtureDir, name))) };
}

interface Row {
  input: string;
  what: string;
  ms: number;
  bytes?: number;
  samples?: number;
}

const rows: Row[] = [];
const formats: ActivityFormat[] = ['fit', 'tcx', 'gpx', 'pwx'];

function benchActivity(label: string, activity: Activity): void {
  for (const f of formats) {
    const encoded = encodeActivity(activity, f);
    rows.push({
      input: label,
      what: `encode ${f}`,
      ms: time(() => encodeActivity(activity, f)),
      bytes: encoded.length,
    });
    const back = decodeActivity(encoded, f);
    rows.push({
      input: label,
      what: `decode ${f}`,
      ms: time(() => decodeActivity(encoded, f)),
      bytes: encoded.length,
      samples: back.samples.length,
    });
  }
}

function benchLibraries(label: string, bytes: Uint8Array): void {
  rows.push({
    input: label,
    what: '@garmin/fitsdk read',
    ms: time(() => new Decoder(Stream.fromByteArray(bytes)).read({ mergeHeartRates: false })),
    bytes: bytes.length,
  });
  const buffer = Buffer.from(bytes);
  rows.push({
    input: label,
    what: 'fit-file-parser parse',
    ms: time(() =>
      new FitParser({ force: true, mode: 'list', speedUnit: 'm/s', lengthUnit: 'm' }).parse(buffer, () => undefined),
    ),
    bytes: bytes.length,
  });
}

const ride = generatedRide();
benchActivity('1 h 1 Hz ride', ride);
benchLibraries('1 h 1 Hz ride', encodeActivity(ride, 'fit'));

const largest = largestFixture();
const decoded = decodeActivity(largest.bytes, 'fit');
rows.push({
  input: largest.name,
  what: 'decode fit (original)',
  ms: time(() => decodeActivity(largest.bytes, 'fit')),
  bytes: largest.bytes.length,
  samples: decoded.samples.length,
});
benchActivity(largest.name, decoded);
benchLibraries(largest.name, largest.bytes);

const pad = (s: string, n: number) => s.padEnd(n);
const lpad = (s: string, n: number) => s.padStart(n);
const inputWidth = Math.max(...rows.map((r) => r.input.length), 5);
process.stdout.write(
  `formats bench: median of ${runs} runs, node ${process.version}, load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}\n\n`,
);
process.stdout.write(
  `${pad('input', inputWidth)}  ${pad('operation', 24)}  ${lpad('ms', 9)}  ${lpad('bytes', 10)}  ${lpad('samples', 8)}\n`,
);
process.stdout.write(
  `${'-'.repeat(inputWidth)}  ${'-'.repeat(24)}  ${'-'.repeat(9)}  ${'-'.repeat(10)}  ${'-'.repeat(8)}\n`,
);
for (const r of rows) {
  process.stdout.write(
    `${pad(r.input, inputWidth)}  ${pad(r.what, 24)}  ${lpad(r.ms.toFixed(1), 9)}  ${lpad(r.bytes === undefined ? '' : String(r.bytes), 10)}  ${lpad(r.samples === undefined ? '' : String(r.samples), 8)}\n`,
  );
}
