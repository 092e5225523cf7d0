import { type Activity, type ActivityFormat } from '@tributary/activity';
import { decodeFit, encodeFit } from './fit/fit.codec';
import { FormatError } from './format.error';
import { decodeGpx, encodeGpx } from './gpx/gpx.codec';
import { decodePwx, encodePwx } from './pwx/pwx.codec';
import { decodeTcx, encodeTcx } from './tcx/tcx.codec';

/** Larger inputs are refused before parsing: the biggest real activity files are a few MB (a 24 h FIT ≈ 5 MB). */
export const MAX_INPUT_BYTES = 64 * 1024 * 1024;

export const ACTIVITY_FORMATS: readonly ActivityFormat[] = ['fit', 'tcx', 'gpx', 'pwx'];

interface Codec {
  decode(bytes: Uint8Array): Activity;
  encode(activity: Activity): Uint8Array;
}

const CODECS: Record<ActivityFormat, Codec> = {
  fit: { decode: (b) => decodeFit(b), encode: encodeFit },
  tcx: { decode: decodeTcx, encode: encodeTcx },
  gpx: { decode: decodeGpx, encode: encodeGpx },
  pwx: { decode: decodePwx, encode: encodePwx },
};

const XML_ROOTS: Record<string, ActivityFormat> = {
  trainingcenterdatabase: 'tcx',
  gpx: 'gpx',
  pwx: 'pwx',
};

/** The format a file name's extension names (`ride.FIT`, `a.tcx`), if any. */
export function formatFromFileName(fileName: string): ActivityFormat | undefined {
  const ext = /\.([a-z0-9]+)$/i.exec(fileName.trim())?.[1]?.toLowerCase();
  return ACTIVITY_FORMATS.find((f) => f === ext);
}

function isFitHeader(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 12 &&
    (bytes[0] === 12 || bytes[0] === 14) &&
    bytes[8] === 0x2e &&
    bytes[9] === 0x46 &&
    bytes[10] === 0x49 &&
    bytes[11] === 0x54
  );
}

/** The local name of the first element, skipping a BOM, the XML declaration, comments, PIs and a DOCTYPE. */
function xmlRootName(bytes: Uint8Array): string | undefined {
  let head: string;
  if (bytes[0] === 0xff && bytes[1] === 0xfe) head = new TextDecoder('utf-16le').decode(bytes.subarray(2, 8192));
  else if (bytes[0] === 0xfe && bytes[1] === 0xff) head = new TextDecoder('utf-16be').decode(bytes.subarray(2, 8192));
  else head = new TextDecoder('utf-8').decode(bytes.subarray(0, 8192));
  head = head.replace(/^\uFEFF/, '');
  let i = 0;
  for (;;) {
    while (i < head.length && /\s/.test(head[i]!)) i += 1;
    if (head.startsWith('<?', i)) {
      const end = head.indexOf('?>', i);
      if (end < 0) return undefined;
      i = end + 2;
    } else if (head.startsWith('<!--', i)) {
      const end = head.indexOf('-->', i);
      if (end < 0) return undefined;
      i = end + 3;
    } else if (head.startsWith('<!', i)) {
      const end = head.indexOf('>', i);
      if (end < 0) return undefined;
      i = end + 1;
    } else break;
  }
  const m = /^<([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)/.exec(head.slice(i));
  return m?.[2]?.toLowerCase();
}

function checkSize(bytes: Uint8Array, format: ActivityFormat | 'unknown'): void {
  if (bytes.length === 0) throw new FormatError(format, 'empty', 'The file is empty.');
  if (bytes.length > MAX_INPUT_BYTES) {
    throw new FormatError(format, 'too_large', `The file is ${bytes.length} bytes; the limit is ${MAX_INPUT_BYTES}.`);
  }
}

/**
 * Which format the bytes are, from their content: the FIT header signature, else the XML root element
 * (TrainingCenterDatabase, gpx, pwx, with or without a namespace prefix). The file name is only a tie-breaker when
 * the content says nothing (e.g. a FIT whose header is damaged): its extension is returned so the codec can give a
 * precise error. FormatError 'unknown_format' otherwise.
 */
export function detectFormat(bytes: Uint8Array, fileName?: string): ActivityFormat {
  checkSize(bytes, 'unknown');
  if (isFitHeader(bytes)) return 'fit';
  const root = xmlRootName(bytes);
  if (root !== undefined) {
    const format = XML_ROOTS[root];
    if (format) return format;
    throw new FormatError('unknown', 'unknown_format', `XML with root <${root}> is not TCX, GPX or PWX.`);
  }
  const byName = fileName === undefined ? undefined : formatFromFileName(fileName);
  if (byName) return byName;
  throw new FormatError('unknown', 'unknown_format', 'The content is neither FIT nor TCX/GPX/PWX XML.');
}

function asFormatError(err: unknown, format: ActivityFormat, reason: 'malformed' | 'unencodable'): FormatError {
  if (err instanceof FormatError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new FormatError(format, reason, message, err);
}

export interface DecodeOptions {
  /** FIT only: accept the readable part of a damaged file, marked `partial` (default true; see decodeFit). */
  allowPartial?: boolean;
}

/** Decodes any supported file; `format` skips detection. Only FormatError escapes. */
export function decodeActivity(bytes: Uint8Array, format?: ActivityFormat, options: DecodeOptions = {}): Activity {
  checkSize(bytes, format ?? 'unknown');
  const f = format ?? detectFormat(bytes);
  try {
    return f === 'fit' ? decodeFit(bytes, { allowPartial: options.allowPartial }) : CODECS[f].decode(bytes);
  } catch (err) {
    throw asFormatError(err, f, 'malformed');
  }
}

export interface EncodeOptions {
  /**
   * Hand back `activity.original.bytes` untouched when they are already in `format`. "Unmodified" is the caller's
   * statement, not something guessed: pass true only when nothing changed the activity since it was decoded
   * (no timezone correction, type change, cleaning…). Default false, so a forgotten flag costs a re-encode, never a
   * stale file.
   */
  preferOriginal?: boolean;
}

/** Encodes to `format`. Only FormatError escapes. */
export function encodeActivity(activity: Activity, format: ActivityFormat, options: EncodeOptions = {}): Uint8Array {
  if (options.preferOriginal === true && activity.original?.format === format && activity.original.bytes.length > 0) {
    return activity.original.bytes;
  }
  try {
    return CODECS[format].encode(activity);
  } catch (err) {
    throw asFormatError(err, format, 'unencodable');
  }
}
