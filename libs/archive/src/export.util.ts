import { type EventEmitter } from 'node:events';
import { Zip, ZipDeflate, strToU8 } from 'fflate';
import { describeError } from '@tributary/common';
import { type ActivityRecordRow } from '@tributary/db';
import { ActivityFiles } from './activity-files.service';
import { ExportAbortedError } from './archive.error';
import { type ArchiveDeps, type ExportOptions, type ExportResult } from './archive.types';

/** One line of index.json / index.csv. */
export interface ExportIndexEntry {
  activity: string;
  start: string;
  timezone: string | null;
  type: string;
  name: string | null;
  /** Metres. */
  distance: number | null;
  /** State per service of the user's connections (`present`, `missing`, …). */
  presence: Record<string, string>;
  /** Path inside the zip, or null when the file could not be had. */
  file: string | null;
  format: string | null;
  derived: boolean | null;
  error: string | null;
}

const CSV_BASE_COLUMNS = ['activity', 'start', 'type', 'name', 'distance', 'file', 'format', 'derived', 'error'];

function csvCell(value: string | number | boolean | null): string {
  const text = value === null ? '' : String(value);
  // Quoted when needed; a leading = + - @ is neutralised so a spreadsheet never runs a name as a formula.
  const safe = /^[=+\-@]/.test(text) && Number.isNaN(Number(text)) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function exportIndexCsv(entries: readonly ExportIndexEntry[], services: readonly string[]): string {
  const header = [...CSV_BASE_COLUMNS, ...services.map((s) => `presence_${s}`)];
  const lines = [header.join(',')];
  for (const e of entries) {
    const base = [e.activity, e.start, e.type, e.name, e.distance, e.file, e.format, e.derived, e.error];
    lines.push([...base, ...services.map((s) => e.presence[s] ?? '')].map(csvCell).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** Writes zip chunks to `out`, waiting whenever it asks to (slow client), and failing if it errors or closes. */
class ZipSink {
  bytes = 0;
  private failure: Error | undefined;
  private drain: Promise<void> | undefined;
  private finished: (() => void) | undefined;
  readonly done: Promise<void>;
  readonly zip: Zip;

  constructor(private readonly out: NodeJS.WritableStream) {
    this.done = new Promise<void>((resolve) => (this.finished = resolve));
    this.zip = new Zip((err, chunk, final) => {
      if (err !== null) {
        this.failure ??= err;
        this.finished?.();
        return;
      }
      this.bytes += chunk.length;
      if (!out.write(chunk)) this.drain ??= this.waitForDrain();
      if (final) this.finished?.();
    });
  }

  private waitForDrain(): Promise<void> {
    const emitter = this.out as unknown as EventEmitter;
    return new Promise<void>((resolve, reject) => {
      const cleanup = () => {
        emitter.off('drain', onDrain);
        emitter.off('error', onError);
        emitter.off('close', onClose);
      };
      const onDrain = () => {
        cleanup();
        resolve();
      };
      const onError = (err: unknown) => {
        cleanup();
        reject(err instanceof Error ? err : new ExportAbortedError());
      };
      const onClose = () => {
        cleanup();
        reject(new ExportAbortedError());
      };
      emitter.on('drain', onDrain);
      emitter.on('error', onError);
      emitter.on('close', onClose);
    });
  }

  add(name: string, data: Uint8Array): void {
    const entry = new ZipDeflate(name, { level: 6 });
    this.zip.add(entry);
    entry.push(data, true);
  }

  /** Resolves once `out` accepted everything written so far. */
  async settle(): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    const waiting = this.drain;
    if (waiting !== undefined) {
      await waiting;
      this.drain = undefined;
    }
  }

  async end(): Promise<void> {
    this.zip.end();
    await this.done;
    await this.settle();
    await new Promise<void>((resolve) => this.out.end(resolve));
  }
}

/**
 * Every activity's original file in one zip, with `index.json` and `index.csv` describing them. Files not stored are
 * fetched from a connection (and stored); one that cannot be had is listed in the index with the reason, not fatal.
 * Streams: only one activity file is in memory at a time, and nothing is read ahead of what `out` accepted. `out`
 * is ended on success; on failure it is left to the caller to destroy (a half-written zip is not a valid one).
 */
export async function exportUserData(
  deps: ArchiveDeps,
  userId: string,
  out: NodeJS.WritableStream,
  opts: ExportOptions = {},
): Promise<ExportResult> {
  const { db } = deps.database;
  const files = new ActivityFiles(deps);
  const records: ActivityRecordRow[] = await db
    .selectFrom('activity_records')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('start_at')
    .orderBy('id')
    .execute();
  const presenceRows = await db
    .selectFrom('activity_presence as p')
    .innerJoin('connections as c', (j) => j.onRef('c.id', '=', 'p.connection_id').onRef('c.user_id', '=', 'p.user_id'))
    .select(['p.record_id', 'c.service', 'p.state'])
    .where('p.user_id', '=', userId)
    .execute();
  const services = [...new Set((await deps.connections.listForUser(userId)).map((c) => c.service))].sort();
  const presence = new Map<string, Record<string, string>>();
  for (const p of presenceRows) {
    const byService = presence.get(p.record_id) ?? {};
    byService[p.service] = p.state;
    presence.set(p.record_id, byService);
  }

  const sink = new ZipSink(out);
  const entries: ExportIndexEntry[] = [];
  const usedNames = new Set<string>();
  let written = 0;
  const report = () => opts.onProgress?.({ done: entries.length, total: records.length, bytes: sink.bytes });
  report();
  for (const record of records) {
    if (opts.signal?.aborted === true) throw new ExportAbortedError();
    const entry: ExportIndexEntry = {
      activity: record.id,
      start: new Date(record.start_at).toISOString(),
      timezone: record.timezone,
      type: record.type,
      name: record.name,
      distance: record.distance,
      presence: presence.get(record.id) ?? {},
      file: null,
      format: null,
      derived: null,
      error: null,
    };
    try {
      const file = await files.originalOf(userId, record);
      let name = `activities/${file.fileName}`;
      // Short ids can collide within one minute and type; the full id cannot.
      if (usedNames.has(name)) name = `activities/${file.fileName.replace(/-[0-9a-f]{8}\./, `-${record.id}.`)}`;
      usedNames.add(name);
      sink.add(name, file.bytes);
      Object.assign(entry, { file: name, format: file.format, derived: file.derived });
      written += 1;
    } catch (err) {
      deps.logger?.warn({ err, userId, recordId: record.id }, 'export: no file for an activity');
      entry.error = describeError(err).slice(0, 500);
    }
    entries.push(entry);
    await sink.settle();
    report();
  }
  sink.add(
    'index.json',
    strToU8(JSON.stringify({ exportedAt: new Date().toISOString(), activities: entries }, null, 2)),
  );
  sink.add('index.csv', strToU8(exportIndexCsv(entries, services)));
  await sink.end();
  report();
  return { activities: records.length, files: written, missing: records.length - written };
}
