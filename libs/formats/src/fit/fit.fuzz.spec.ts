import fc from 'fast-check';
import { FormatError } from '../format.error';
import { readFixture } from './fit-fixtures.util';
import { decodeOutcome, fitCrc, fitMutations } from './fit-fuzz.util';
import { decodeFit, encodeFit } from './fit.codec';

describe('decodeFit fuzz', () => {
  const seeds = [
    readFixture('fit', 'garmin-fenix-5-run.fit'),
    readFixture('fit', 'elemnt-bolt-no-application-id-inside-developer-data-id.fit'),
  ];

  it('should compute the FIT CRC the SDK checks', () => {
    const bytes = readFixture('fit', 'garmin-fenix-5-bike.fit');
    const stored = bytes[bytes.length - 2]! | (bytes[bytes.length - 1]! << 8);
    expect(fitCrc(bytes, 0, bytes.length - 2)).toBe(stored);
  });

  it('should only ever throw FormatError on 300 damaged files', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(fitMutations(seeds), (bytes) => {
        seen.add(decodeOutcome(bytes));
      }),
      { numRuns: 300, seed: 20261123 },
    );
    // The corpus must reach both the error and the recovery paths, or it tests nothing.
    expect([...seen].some((o) => o.startsWith('error:'))).toBe(true);
    expect([...seen].some((o) => o === 'ok' || o === 'partial')).toBe(true);
  }, 120_000);

  it('should decode an encoded file cut at every 97th byte without crashing', () => {
    const bytes = encodeFit(decodeFit(seeds[0]!));
    for (let n = 0; n < bytes.length; n += 97) {
      try {
        decodeFit(bytes.slice(0, n));
      } catch (err) {
        expect(err).toBeInstanceOf(FormatError);
      }
    }
  });
});
