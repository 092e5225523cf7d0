/** The part of a stream the bar needs; process.stderr fits, and so does a test double claiming to be a TTY. */
export interface BarStream {
  isTTY?: boolean;
  columns?: number;
  write(chunk: string): boolean;
}

const WIDTH = 24;
const REDRAW_EVERY_MS = 100;

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/**
 * A one-line progress bar redrawn in place on stderr. It draws nothing unless the stream is a terminal, so logs and
 * pipes never get carriage-return noise, and stdout stays free for the command's (JSON) output.
 */
export class ProgressBar {
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly label: string,
    private readonly stream: BarStream = process.stderr,
    private readonly now: () => number = Date.now,
  ) {}

  get enabled(): boolean {
    return this.stream.isTTY === true;
  }

  /** `fraction` 0..1; `detail` follows the percentage (counts, bytes, phase). */
  update(fraction: number, detail = '', force = false): void {
    if (!this.enabled) return;
    const t = this.now();
    if (!force && this.drawn && t - this.lastDraw < REDRAW_EVERY_MS) return;
    this.lastDraw = t;
    this.drawn = true;
    const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
    const filled = Math.round(f * WIDTH);
    const line = `${this.label} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${String(Math.floor(f * 100)).padStart(3)}% ${detail}`;
    const max = Math.max(20, (this.stream.columns ?? 80) - 1);
    this.stream.write(`\r${line.slice(0, max).padEnd(max)}`);
  }

  /** Leaves the final state on its own line. */
  done(detail = ''): void {
    if (!this.enabled) return;
    this.update(1, detail, true);
    this.stream.write('\n');
  }
}
