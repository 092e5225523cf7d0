import { DateTime } from 'luxon';
import { type ActivityFormat } from '@tributary/activity';

export interface FileNameSource {
  id: string;
  start_at: Date | string;
  timezone: string | null;
  type: string;
}

/**
 * `<local start yyyy-mm-dd_HHMM>-<type>-<shortid>.<ext>`: sorts by time in a folder listing, says what it is, and
 * the short id keeps two activities of the same minute apart. Local time is the activity's zone (UTC when unknown).
 */
export function activityFileName(record: FileNameSource, format: ActivityFormat): string {
  const start = record.start_at instanceof Date ? record.start_at : new Date(record.start_at);
  let dt = DateTime.fromJSDate(start, { zone: record.timezone ?? 'utc' });
  if (!dt.isValid) dt = DateTime.fromJSDate(start, { zone: 'utc' });
  const type =
    record.type
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '') || 'activity';
  const shortId = record.id.replace(/-/g, '').slice(0, 8);
  return `${dt.toFormat('yyyy-LL-dd_HHmm')}-${type}-${shortId}.${format}`;
}
