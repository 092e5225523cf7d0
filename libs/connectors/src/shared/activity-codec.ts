import { type Activity, type ActivityFormat } from '@tributary/activity';

/** The slice of @tributary/formats the connectors use; injected so connector tests can use a small fake. */
export interface ActivityCodec {
  detectFormat(bytes: Uint8Array, fileName?: string): ActivityFormat;
  decodeActivity(bytes: Uint8Array, format?: ActivityFormat): Activity;
  encodeActivity(activity: Activity, format: ActivityFormat): Uint8Array;
}

export interface EncodedFile {
  format: ActivityFormat;
  bytes: Uint8Array;
  /** True when these are the source's original bytes, unchanged. */
  original: boolean;
}

/**
 * Picks the upload format: the original bytes when the destination accepts their format (no lossy re-encoding),
 * otherwise the first accepted format, encoded from the canonical model.
 */
export function encodeForUpload(
  codec: ActivityCodec,
  activity: Activity,
  accepted: readonly ActivityFormat[],
): EncodedFile {
  const original = activity.original;
  if (original !== undefined && accepted.includes(original.format)) {
    return { format: original.format, bytes: original.bytes, original: true };
  }
  const format = accepted[0] ?? 'fit';
  return { format, bytes: codec.encodeActivity(activity, format), original: false };
}

export const FILE_EXTENSIONS: Record<ActivityFormat, string> = { fit: 'fit', tcx: 'tcx', gpx: 'gpx', pwx: 'pwx' };

/** Format from a file name's extension, or undefined for files that are not activities. */
export function formatFromFileName(name: string): ActivityFormat | undefined {
  const m = /\.(fit|tcx|gpx|pwx)$/i.exec(name);
  return m === null ? undefined : (m[1]!.toLowerCase() as ActivityFormat);
}
