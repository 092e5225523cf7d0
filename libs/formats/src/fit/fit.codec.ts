import { type Activity, type DecodeWarning } from '@tributary/activity';
import { FormatError, type FormatErrorReason } from '../format.error';
import { readFitWithFitFileParser } from './fit-file-parser.decoder';
import { type FitFileMessages } from './fit-messages.types';
import { fitIntegrity, readFitWithSdk } from './fit-sdk.decoder';
import { fitMessagesToActivity } from './fit.decoder';
import { activityToFit } from './fit.encoder';

export interface FitDecodeOptions {
  /**
   * Accept what could be read from a damaged file (truncated, corrupt in the middle, bad CRC). The activity then
   * has `partial: true` and a warning saying what happened. Default true: a sync hub loses less by forwarding most
   * of a ride than by refusing it; callers that must have a complete file pass false and get FormatError instead.
   */
  allowPartial?: boolean;
}

function headerInfo(bytes: Uint8Array): { headerSize: number; dataSize: number } | undefined {
  if (bytes.length < 12) return undefined;
  const headerSize = bytes[0]!;
  if (headerSize !== 12 && headerSize !== 14) return undefined;
  if (String.fromCharCode(bytes[8]!, bytes[9]!, bytes[10]!, bytes[11]!) !== '.FIT') return undefined;
  const dataSize = (bytes[4]! | (bytes[5]! << 8) | (bytes[6]! << 16)) + bytes[7]! * 0x1000000;
  return { headerSize, dataSize };
}

function failureReason(fit: FitFileMessages, firstFileEnd: number, bytes: Uint8Array): FormatErrorReason {
  if (firstFileEnd > bytes.length || fit.errors.some((e) => /end of stream/i.test(e))) return 'truncated';
  return 'malformed';
}

/**
 * Reads a FIT activity. The Garmin SDK is the main decoder; when it reports an error, fit-file-parser is tried as
 * well and whichever read more records wins (ties go to the SDK). The decision per fixture:
 * - compressed-timestamp files and the FR255 triathlons crash the SDK → fit-file-parser reads them in full;
 * - a chained file whose second part is corrupt (activity-settings-corruptheader) → the first, complete file is
 *   kept with a `corrupt_trailer` warning; not partial;
 * - a file cut short or corrupt inside its activity data (activity-unexpected-eof, the Strava app file) → the
 *   part read before the damage, `partial: true` plus a `truncated`/`bad_checksum` warning, or FormatError
 *   'truncated'/'malformed' when `allowPartial` is false or nothing usable was read.
 * Never throws anything but FormatError.
 */
export function decodeFit(bytes: Uint8Array, options: FitDecodeOptions = {}): Activity {
  if (bytes.length === 0) throw new FormatError('fit', 'empty', 'The file is empty.');
  const header = headerInfo(bytes);
  if (!header) throw new FormatError('fit', 'not_this_format', 'No FIT header (.FIT signature) found.');
  try {
    return decodeChecked(bytes, header, options.allowPartial ?? true);
  } catch (err) {
    if (err instanceof FormatError) throw err;
    throw new FormatError('fit', 'malformed', `The file could not be decoded: ${describe(err)}`, err);
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function decodeChecked(
  bytes: Uint8Array,
  header: { headerSize: number; dataSize: number },
  allowPartial: boolean,
): Activity {
  const firstFileEnd = header.headerSize + header.dataSize + 2;
  const warnings: DecodeWarning[] = [];
  const { intact } = fitIntegrity(bytes);
  let chosen = readFitWithSdk(bytes);
  let partial = false;
  if (chosen.errors.length > 0) {
    const fallback = readFitWithFitFileParser(bytes);
    if (fallback.errors.length === 0 && fallback.records.length > chosen.records.length) {
      warnings.push({
        code: 'fallback_decoder',
        message: `The Garmin SDK failed (${chosen.errors[0] ?? 'unknown'}); read with fit-file-parser instead.`,
      });
      chosen = fallback;
    } else if (chosen.errorOffset !== undefined && chosen.errorOffset >= firstFileEnd) {
      warnings.push({
        code: 'corrupt_trailer',
        message: `Data after the first complete FIT file (from byte ${firstFileEnd}) is corrupt and was ignored.`,
      });
    } else {
      partial = true;
      const reason = failureReason(chosen, firstFileEnd, bytes);
      if (chosen.records.length === 0 && chosen.sessions.length === 0) {
        throw new FormatError('fit', reason, `Nothing usable could be read: ${chosen.errors.join('; ')}`);
      }
      if (!allowPartial) {
        throw new FormatError(
          'fit',
          reason,
          `The file is damaged (${chosen.errors.join('; ')}); partial data refused.`,
        );
      }
      warnings.push({
        code: 'truncated',
        message: `The file is damaged at byte ${chosen.errorOffset ?? '?'} of ${bytes.length}: ${chosen.errors.join('; ')}. Kept the ${chosen.records.length} record(s) read before it.`,
        count: chosen.records.length,
      });
    }
  } else if (!intact) {
    if (!allowPartial) throw new FormatError('fit', 'bad_checksum', 'The file size or CRC does not match.');
    warnings.push({ code: 'bad_checksum', message: 'The file size or CRC does not match; the data decoded cleanly.' });
  }
  if (chosen.records.length === 0 && chosen.sessions.length === 0 && chosen.laps.length === 0) {
    throw new FormatError('fit', 'no_activity', 'The FIT file holds no activity data (no records, laps or sessions).');
  }
  const activity = fitMessagesToActivity(chosen, bytes, warnings);
  if (partial) activity.partial = true;
  if (warnings.length > 0) activity.warnings = warnings;
  return activity;
}

/** Writes the activity as a FIT activity file (see activityToFit for the message layout). */
export function encodeFit(activity: Activity): Uint8Array {
  return activityToFit(activity);
}
