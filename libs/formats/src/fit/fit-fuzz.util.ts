import fc from 'fast-check';
import { FormatError } from '../format.error';
import { decodeFit } from './fit.codec';

/** Recomputes the FIT CRC-16 so a mutated body is not rejected for its checksum alone (reaches deeper code). */
export function fitCrc(bytes: Uint8Array, start: number, end: number): number {
  const table = [
    0x0000, 0xcc01, 0xd801, 0x1400, 0xf001, 0x3c00, 0x2800, 0xe401, 0xa001, 0x6c00, 0x7800, 0xb401, 0x5000, 0x9c01,
    0x8801, 0x4400,
  ];
  let crc = 0;
  for (let i = start; i < end; i += 1) {
    const byte = bytes[i]!;
    let tmp = table[crc & 0xf]!;
    crc = (crc >> 4) & 0x0fff;
    crc = crc ^ tmp ^ table[byte & 0xf]!;
    tmp = table[crc & 0xf]!;
    crc = (crc >> 4) & 0x0fff;
    crc = crc ^ tmp ^ table[(byte >> 4) & 0xf]!;
  }
  return crc;
}

function withFixedCrc(bytes: Uint8Array): Uint8Array {
  if (bytes.length < 16) return bytes;
  const out = bytes.slice();
  const crc = fitCrc(out, 0, out.length - 2);
  out[out.length - 2] = crc & 0xff;
  out[out.length - 1] = crc >> 8;
  return out;
}

/** Damaged variants of real FIT files: cuts, bit flips (with and without a fixed CRC), byte runs, pure noise. */
export function fitMutations(seeds: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const seed = fc.constantFrom(...seeds);
  const truncated = seed.chain((s) => fc.nat({ max: s.length }).map((n) => s.slice(0, n)));
  const flipped = seed.chain((s) =>
    fc
      .tuple(
        fc.array(fc.tuple(fc.nat({ max: s.length - 1 }), fc.integer({ min: 0, max: 7 })), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.boolean(),
      )
      .map(([flips, fixCrc]) => {
        const out = s.slice();
        for (const [i, bit] of flips) out[i] = out[i]! ^ (1 << bit);
        return fixCrc ? withFixedCrc(out) : out;
      }),
  );
  const overwritten = seed.chain((s) =>
    fc.tuple(fc.nat({ max: s.length - 1 }), fc.uint8Array({ minLength: 1, maxLength: 64 })).map(([at, run]) => {
      const out = s.slice();
      out.set(run.subarray(0, out.length - at), at);
      return withFixedCrc(out);
    }),
  );
  const headerThenNoise = seed.chain((s) =>
    fc.uint8Array({ minLength: 0, maxLength: 2048 }).map((noise) => {
      const out = new Uint8Array(14 + noise.length);
      out.set(s.subarray(0, 14));
      out.set(noise, 14);
      return out;
    }),
  );
  const noise = fc.uint8Array({ minLength: 0, maxLength: 4096 });
  return fc.oneof(truncated, flipped, overwritten, headerThenNoise, noise);
}

/** Decodes; returns what happened, and rethrows anything that is not a FormatError (a crash). */
export function decodeOutcome(bytes: Uint8Array): 'ok' | 'partial' | `error:${string}` {
  try {
    const a = decodeFit(bytes);
    return a.partial ? 'partial' : 'ok';
  } catch (err) {
    if (err instanceof FormatError) return `error:${err.code}`;
    throw err;
  }
}
