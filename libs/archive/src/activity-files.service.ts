import { type Activity, type ActivityFormat, type ActivitySummary, isActivityType } from '@tributary/activity';
import { DomainError, describeError } from '@tributary/common';
import { RemoteNotFoundError } from '@tributary/connectors';
import {
  ActivityOriginalRepository,
  ActivityRecordRepository,
  type ActivityRecordRow,
  type ConnectionView,
} from '@tributary/db';
import { decodeActivity, encodeActivity } from '@tributary/formats';
import { ArchiveNotFoundError, ArchiveSourceUnavailableError } from './archive.error';
import { type ActivityFile, type ArchiveDeps } from './archive.types';
import { connectorContextFor, connectorIdOf } from './connector-context.util';
import { activityFileName } from './file-name.util';
import { originalBytesOf } from './original-file.util';

/**
 * Services that hand out the recorded file come first; Strava only has streams, from which the hub must encode a
 * FIT itself, so it is the last resort.
 */
const SOURCE_PREFERENCE: readonly string[] = ['garmin_connect', 'dropbox', 'local_folder', 'strava'];

function rank(service: string): number {
  const i = SOURCE_PREFERENCE.indexOf(connectorIdOf(service));
  return i < 0 ? SOURCE_PREFERENCE.length : i;
}

/** What the connectors' downloadActivity needs, rebuilt from the record (the listing is not kept). */
function summaryOf(record: ActivityRecordRow, remoteId: string): ActivitySummary {
  const summary: ActivitySummary = {
    remoteId,
    start: new Date(record.start_at).getTime(),
    type: isActivityType(record.type) ? record.type : 'other',
  };
  if (record.end_at !== null) summary.end = new Date(record.end_at).getTime();
  if (record.timezone !== null) summary.timezone = record.timezone;
  if (record.name !== null) summary.name = record.name;
  if (record.distance !== null) summary.distance = record.distance;
  if (record.stationary !== null) summary.stationary = record.stationary;
  summary.private = record.private;
  return summary;
}

/**
 * An activity's file in the format asked for. The stored original is used when there is one; otherwise the file is
 * fetched from a connection where the activity is present, stored for next time, and handed out.
 */
export class ActivityFiles {
  private readonly records: ActivityRecordRepository;
  private readonly originals: ActivityOriginalRepository;

  constructor(private readonly deps: ArchiveDeps) {
    this.records = new ActivityRecordRepository(deps.database.db);
    this.originals = new ActivityOriginalRepository(deps.database.db);
  }

  async original(userId: string, recordId: string): Promise<ActivityFile> {
    const record = await this.records.findById(userId, recordId);
    if (record === undefined) throw new ArchiveNotFoundError('activity', recordId);
    return this.originalOf(userId, record);
  }

  /** Same as original() for a record already loaded (the export walks every record). */
  async originalOf(userId: string, record: ActivityRecordRow): Promise<ActivityFile> {
    const stored = await this.originals.get(userId, record.id);
    if (stored !== undefined) {
      const format = stored.format as ActivityFormat;
      return { bytes: stored.bytes, format, fileName: activityFileName(record, format), derived: stored.derived };
    }
    return this.fetch(userId, record);
  }

  /** The file in `format`: the original's own bytes when it already is one, else a conversion. */
  async inFormat(userId: string, recordId: string, format: ActivityFormat): Promise<ActivityFile> {
    const record = await this.records.findById(userId, recordId);
    if (record === undefined) throw new ArchiveNotFoundError('activity', recordId);
    const original = await this.originalOf(userId, record);
    if (original.format === format) return original;
    const activity = decodeActivity(original.bytes, original.format);
    return {
      bytes: encodeActivity(this.withRecordFacts(activity, record), format),
      format,
      fileName: activityFileName(record, format),
      derived: true,
    };
  }

  /** The decoded activity, with what the hub knows better than the file (name, zone, type) filled in. */
  async activity(userId: string, recordId: string): Promise<Activity> {
    const record = await this.records.findById(userId, recordId);
    if (record === undefined) throw new ArchiveNotFoundError('activity', recordId);
    const original = await this.originalOf(userId, record);
    return this.withRecordFacts(decodeActivity(original.bytes, original.format), record);
  }

  private withRecordFacts(activity: Activity, record: ActivityRecordRow): Activity {
    return {
      ...activity,
      name: activity.name ?? record.name ?? undefined,
      timezone: activity.timezone ?? record.timezone ?? undefined,
      type: activity.type === 'other' && isActivityType(record.type) ? record.type : activity.type,
    };
  }

  private async fetch(userId: string, record: ActivityRecordRow): Promise<ActivityFile> {
    const presence = await this.records.listPresence(userId, record.id);
    const connections = new Map((await this.deps.connections.listForUser(userId)).map((c) => [c.id, c]));
    const candidates = presence
      .filter((p) => p.state === 'present' && p.remote_id !== null)
      .map((p) => ({ remoteId: p.remote_id!, connection: connections.get(p.connection_id) }))
      .filter((c): c is { remoteId: string; connection: ConnectionView } => c.connection !== undefined)
      .filter(({ connection }) => {
        const id = connectorIdOf(connection.service);
        return (
          this.deps.registry.has(id) &&
          this.deps.registry.get(id).capabilities.supplies &&
          connection.status !== 'disabled' &&
          connection.status !== 'needs_reauth'
        );
      })
      .sort((a, b) => rank(a.connection.service) - rank(b.connection.service));
    if (candidates.length === 0) throw new ArchiveNotFoundError('original file of activity', record.id);

    let retryable: unknown;
    const problems: string[] = [];
    for (const { remoteId, connection } of candidates) {
      let activity: Activity;
      let file: ReturnType<typeof originalBytesOf>;
      try {
        activity = await this.download(userId, connection, summaryOf(record, remoteId));
        file = originalBytesOf(activity, record.timezone ?? undefined);
      } catch (err) {
        this.deps.logger?.warn(
          { err, userId, recordId: record.id, connectionId: connection.id },
          'could not fetch an original',
        );
        problems.push(`${connection.service}: ${describeError(err)}`);
        const gone = err instanceof RemoteNotFoundError || (err instanceof DomainError && !err.retryable);
        if (!gone) retryable ??= err;
        continue;
      }
      return this.keep(userId, record, connection.id, file);
    }
    if (retryable !== undefined) throw new ArchiveSourceUnavailableError(record.id, problems.join('; '), retryable);
    throw new ArchiveNotFoundError('original file of activity', record.id);
  }

  private async download(userId: string, connection: ConnectionView, summary: ActivitySummary): Promise<Activity> {
    const connector = this.deps.registry.get(connectorIdOf(connection.service));
    const ctx = await connectorContextFor(this.deps.connections, userId, connection, connector);
    return connector.downloadActivity(ctx, summary);
  }

  /** Stores what was fetched; a failed store is logged and the file still handed out (it is fetched again later). */
  private async keep(
    userId: string,
    record: ActivityRecordRow,
    connectionId: string,
    file: ReturnType<typeof originalBytesOf>,
  ): Promise<ActivityFile> {
    try {
      await this.originals.put(userId, record.id, { ...file, sourceConnectionId: connectionId });
    } catch (err) {
      this.deps.logger?.warn({ err, userId, recordId: record.id }, 'could not store a fetched original');
    }
    return { ...file, fileName: activityFileName(record, file.format) };
  }
}
