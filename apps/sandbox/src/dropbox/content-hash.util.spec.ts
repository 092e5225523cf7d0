import { createHash } from 'node:crypto';
import { dropboxContentHash } from './content-hash.util';

const sha = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();

describe('dropboxContentHash', () => {
  it('should hash empty content as SHA-256 of nothing', () => {
    expect(dropboxContentHash(new Uint8Array(0))).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });

  it('should hash a single block as SHA-256 of its SHA-256', () => {
    const data = Buffer.from('Tributary sandbox');
    expect(dropboxContentHash(data)).toBe(createHash('sha256').update(sha(data)).digest('hex'));
  });

  it('should hash each 4 MiB block separately and then the concatenated digests', () => {
    const block = 4 * 1024 * 1024;
    const data = Buffer.alloc(block * 2 + 123);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + 7) & 0xff;
    const digests = Buffer.concat([
      sha(data.subarray(0, block)),
      sha(data.subarray(block, 2 * block)),
      sha(data.subarray(2 * block)),
    ]);
    expect(dropboxContentHash(data)).toBe(createHash('sha256').update(digests).digest('hex'));
    // Not the plain SHA-256 of the content: the block structure matters.
    expect(dropboxContentHash(data)).not.toBe(sha(data).toString('hex'));
  });

  it('should treat content of exactly one block as one block', () => {
    const data = Buffer.alloc(4 * 1024 * 1024, 1);
    expect(dropboxContentHash(data)).toBe(createHash('sha256').update(sha(data)).digest('hex'));
  });
});
