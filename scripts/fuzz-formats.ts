/**
 * Longer FIT decoder fuzz run than the unit test: `node --require ./scripts/register-ts.js scripts/fuzz-formats.ts
 * [cases] [seed]`. Mutates every fixture in ../shared/fixtures/fit and fails on anything but FormatError.
 */
import fc from 'fast-check';
// A dev script reusing the unit test's fuzz corpus builder, which the lib deliberately does not export.
// eslint-disable-next-line no-restricted-imports
import { fixtureFiles, readFixture } from '../libs/formats/src/fit/fit-fixtures.util';
// eslint-disable-next-line no-restricted-imports
import { decodeOutcome, fitMutations } from '../libs/formats/src/fit/fit-fuzz.util';

const cases = Number(process.argv[2] ?? 2000);
const seed = Number(process.argv[3] ?? Date.now() % 2 ** 31);
// Large fixtures make each case slow; the small ones reach the same code paths.
const seeds = fixtureFiles('fit')
  .map((f) => readFixture('fit', f))
  .filter((b) => b.length <= 150_000);
const outcomes = new Map<string, number>();
const started = Date.now();
fc.assert(
  fc.property(fitMutations(seeds), (bytes) => {
    const o = decodeOutcome(bytes);
    outcomes.set(o, (outcomes.get(o) ?? 0) + 1);
  }),
  { numRuns: cases, seed },
);
process.stdout.write(
  `fuzz-formats: ${cases} cases, seed ${seed}, ${seeds.length} seed files, ${Date.now() - started} ms\n`,
);
for (const [o, n] of [...outcomes.entries()].sort((a, b) => b[1] - a[1]))
  process.stdout.write(`  ${o.padEnd(32)} ${n}\n`);
