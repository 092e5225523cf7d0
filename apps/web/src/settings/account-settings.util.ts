import { ValidationError } from '@tributary/common';
import { type UserSettings } from '@tributary/db';
import { formField } from '../site/page.util';

/** A week: tapiriik offered delays up to a few days; longer only hides activities for no benefit. */
export const MAX_UPLOAD_DELAY_MINUTES = 7 * 24 * 60;

/** A real IANA zone name the runtime knows (so luxon and Intl accept it later); aliases like "UTC" included. */
export function isIanaTimeZone(zone: string): boolean {
  if (zone === '' || zone.length > 64 || !/^[A-Za-z0-9_+\-/]+$/.test(zone)) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The account sync settings of the /settings form; every field is validated before anything is stored. */
export type SyncSettingsPatch = Pick<
  UserSettings,
  'autoSync' | 'uploadDelaySeconds' | 'skipBefore' | 'timezoneFallback'
>;

/**
 * Reads the sync part of the settings form: `sync` (auto|manual), `uploadDelayMinutes`, `skipBefore` (YYYY-MM-DD,
 * midnight UTC; empty = none) and `timezone` (IANA name; empty = guess). Throws one ValidationError naming every
 * bad field, with `details.fields` for the form.
 */
export function parseSyncSettingsForm(body: unknown): SyncSettingsPatch {
  const fields: Record<string, string> = {};
  const sync = formField(body, 'sync');
  if (sync !== 'auto' && sync !== 'manual') fields.sync = 'Choose automatic or manual sync';

  const delayRaw = formField(body, 'uploadDelayMinutes').trim();
  const delay = delayRaw === '' ? 0 : Number(delayRaw);
  if (!Number.isInteger(delay) || delay < 0 || delay > MAX_UPLOAD_DELAY_MINUTES) {
    fields.uploadDelayMinutes = `Upload delay must be a whole number of minutes from 0 to ${MAX_UPLOAD_DELAY_MINUTES}`;
  }

  const skipRaw = formField(body, 'skipBefore').trim();
  let skipBefore: string | null = null;
  if (skipRaw !== '') {
    const at = /^\d{4}-\d{2}-\d{2}$/.test(skipRaw) ? new Date(`${skipRaw}T00:00:00.000Z`) : new Date(NaN);
    if (Number.isNaN(at.getTime()) || at.toISOString().slice(0, 10) !== skipRaw) {
      fields.skipBefore = 'Skip-before must be a date like 2024-01-31';
    } else {
      skipBefore = at.toISOString();
    }
  }

  const zone = formField(body, 'timezone').trim();
  if (zone !== '' && !isIanaTimeZone(zone)) {
    fields.timezone = `"${zone.slice(0, 64)}" is not a time zone name like Europe/Berlin`;
  }

  if (Object.keys(fields).length > 0) throw new ValidationError(Object.values(fields).join('; '), { fields });
  return {
    autoSync: sync === 'auto',
    uploadDelaySeconds: delay * 60,
    skipBefore,
    timezoneFallback: zone === '' ? null : zone,
  };
}

/** The notification part of the form, with unticked checkboxes (absent from the body) as explicit "off". */
export function notificationFormInput(body: unknown): Record<string, string> {
  const box = (name: string): string => (formField(body, name) === '' ? 'off' : 'on');
  return {
    enabled: box('notifyEnabled'),
    email: formField(body, 'notifyEmail'),
    emailOnBlockingError: box('notifyOnBlockingError'),
    emailOnReauthNeeded: box('notifyOnReauth'),
    webhookUrl: formField(body, 'notifyWebhookUrl'),
    webhookEnabled: box('notifyWebhookEnabled'),
  };
}
