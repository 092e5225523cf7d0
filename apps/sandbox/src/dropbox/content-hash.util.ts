import { createHash } from 'node:crypto';

const BLOCK = 4 * 1024 * 1024;

/**
 * Dropbox's `content_hash`: split the content into 4 MiB blocks, SHA-256 each block, concatenate the binary digests
 * and SHA-256 that; hex encoded. Empty content hashes the empty concatenation.
 */
export function dropboxContentHash(bytes: Uint8Array): string {
  const outer = createHash('sha256');
  for (let offset = 0; offset < bytes.length; offset += BLOCK) {
    outer.update(
      createHash('sha256')
        .update(bytes.subarray(offset, offset + BLOCK))
        .digest(),
    );
  }
  return outer.digest('hex');
}
