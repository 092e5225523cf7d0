import { type Activity, type ActivityFormat } from '@tributary/activity';
import { type ActivityOriginalMeta, type ActivityOriginalRepository } from '@tributary/db';
import { encodeActivity } from '@tributary/formats';
import { zoneActivity } from '@tributary/sync';

/** What to store for a downloaded activity: the source's own file, or a FIT the hub encodes (marked derived). */
export function originalBytesOf(
  activity: Activity,
  fallbackZone?: string,
): { format: ActivityFormat; bytes: Uint8Array; derived: boolean } {
  if (activity.original !== undefined && activity.original.bytes.length > 0) {
    return { format: activity.original.format, bytes: activity.original.bytes, derived: false };
  }
  // A FIT carries UTC instants: a wall-clock-only (naive) activity is placed in its zone first when one is known.
  const zoned = zoneActivity(activity, fallbackZone === undefined ? {} : { userSetting: fallbackZone });
  return { format: 'fit', bytes: encodeActivity(zoned?.activity ?? activity, 'fit'), derived: true };
}

/**
 * Stores the original of a downloaded activity for the record. A derived FIT is encoded only when nothing is stored
 * yet (a stored file, real or derived, is at least as good), so repeated syncs cost one cheap lookup.
 */
export async function storeDownloadedOriginal(
  originals: ActivityOriginalRepository,
  userId: string,
  recordId: string,
  sourceConnectionId: string | null,
  activity: Activity,
  fallbackZone?: string,
): Promise<ActivityOriginalMeta | undefined> {
  const hasFile = activity.original !== undefined && activity.original.bytes.length > 0;
  if (!hasFile && (await originals.has(userId, recordId))) return undefined;
  const file = originalBytesOf(activity, fallbackZone);
  return originals.put(userId, recordId, { ...file, sourceConnectionId });
}
