import { DateTime } from 'luxon';
import { ACTIVITY_TYPES, type Activity, type ActivityType } from '@tributary/activity';
import { ValidationError } from '@tributary/common';

export const DEFAULT_NAME_TEMPLATE = '%Y-%m-%d_%H-%M-%S_#NAME_#TYPE';
export const MAX_FILE_NAME_LENGTH = 250;

/**
 * File name for an uploaded activity. `%Y %m %d %H %M %S` are the local start time (the activity's zone; UTC
 * when unknown), `#NAME` its name and `#TYPE` its type label. The result contains no path separators, control or
 * reserved characters, and is at most 250 characters including the extension.
 */
export function renderFileName(template: string, activity: Activity, extension: string): string {
  const zone = activity.naive === true || activity.timezone === undefined ? 'utc' : activity.timezone;
  let dt = DateTime.fromMillis(activity.start, { zone });
  if (!dt.isValid) dt = DateTime.fromMillis(activity.start, { zone: 'utc' });
  const name = template
    .replace(/%([YmdHMS%])/g, (_, c: string) => {
      switch (c) {
        case 'Y':
          return dt.toFormat('yyyy');
        case 'm':
          return dt.toFormat('LL');
        case 'd':
          return dt.toFormat('dd');
        case 'H':
          return dt.toFormat('HH');
        case 'M':
          return dt.toFormat('mm');
        case 'S':
          return dt.toFormat('ss');
        default:
          return '%';
      }
    })
    .replace(/#NAME/g, activity.name ?? '')
    .replace(/#TYPE/g, ACTIVITY_TYPES[activity.type].label);
  let safe = sanitizeFileName(name);
  if (safe === '') safe = String(activity.start);
  const suffix = `.${extension}`;
  return safe.slice(0, MAX_FILE_NAME_LENGTH - suffix.length).replace(/[._-]+$/, '') + suffix;
}

/** Keeps letters, digits and a few safe punctuation marks; everything else becomes `_`. */
export function sanitizeFileName(name: string): string {
  return name
    .normalize('NFC')
    .replace(/\s+/g, '_')
    .replace(/[^\p{L}\p{N}._()+,-]/gu, '_')
    .replace(/_+/g, '_')
    .replace(/^[._]+/, '');
}

export function validateNameTemplate(template: unknown): string {
  if (template === undefined) return DEFAULT_NAME_TEMPLATE;
  if (typeof template !== 'string' || template.trim() === '' || template.length > 200) {
    throw new ValidationError('name template must be a non-empty string of at most 200 characters');
  }
  if (!/%[YmdHMS]/.test(template)) {
    throw new ValidationError('name template must contain at least one date field (%Y, %m, %d, %H, %M, %S)');
  }
  return template;
}

/** tapiriik's path tags, earlier entries win ("run(?!tastic)" so Runtastic exports are not all runs). */
export const PATH_TAGS: readonly [ActivityType, RegExp][] = [
  ['running', /run(?!tastic)/],
  ['mountain_biking', /m(oun)?t(ai)?n\s*bik(e|ing)/],
  ['cycling', /(cycl(e|ing)|bik(e|ing))/],
  ['walking', /walk/],
  ['hiking', /hik(e|ing)/],
  ['downhill_skiing', /(downhill|down(hill)?\s*ski(ing)?)/],
  ['cross_country_skiing', /(xc|cross.*country)\s*ski(ing)?/],
  ['snowboarding', /snowboard(ing)?/],
  ['ice_skating', /skat(e|ing)?/],
  ['swimming', /swim/],
  ['wheelchair', /wheelchair/],
  ['rowing', /row/],
  ['elliptical', /elliptical/],
  ['roller_skiing', /rollerskiing/],
  ['strength_training', /strength( ?training)?/],
  ['cardio', /(gym|workout)/],
  ['climbing', /climb(ing)?/],
  ['stand_up_paddling', /(sup|stand( |-)\/up ?paddl(e|ing))/],
  ['other', /(other|unknown)/],
];

/** The type a path is tagged with (folder or file name), or undefined when untagged. */
export function typeFromPathTags(path: string): ActivityType | undefined {
  const lower = path.toLowerCase().replace(/\.(fit|tcx|gpx|pwx)$/, '');
  return PATH_TAGS.find(([, re]) => re.test(lower))?.[0];
}

const FILE_NAME_DATE = /(\d{4})-(\d{2})-(\d{2})_(\d{2})-(\d{2})-(\d{2})/;

/** Start time from a name produced by the default template (local wall clock → naive epoch ms), if present. */
export function startFromFileName(name: string): number | undefined {
  const m = FILE_NAME_DATE.exec(name);
  if (m === null) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(ms);
  return check.getUTCMonth() === mo - 1 && check.getUTCDate() === d && h < 24 && mi < 60 && s < 60 ? ms : undefined;
}
