import { randomBytes } from 'node:crypto';

export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

const ALPHANUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function randomAlnum(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += ALPHANUM[b % ALPHANUM.length];
  return out;
}

/** Monotonic numeric id source; starts high so ids look like (and exercise the same parsing as) real 64-bit ids. */
export class IdSequence {
  private next: number;

  constructor(private readonly start: number) {
    this.next = start;
  }

  take(): number {
    return this.next++;
  }

  /** Makes sure future ids stay above an id chosen explicitly by a caller. */
  bump(used: number): void {
    if (used >= this.next) this.next = used + 1;
  }

  reset(): void {
    this.next = this.start;
  }
}
