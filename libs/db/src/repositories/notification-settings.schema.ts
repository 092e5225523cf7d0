import { z } from 'zod';
import { ValidationError } from '@tributary/common';
import { type NotificationSettings } from '../schema';

export interface NotificationSettingsOptions {
  /** TRIBUTARY_NOTIFY_ALLOW_HTTP_WEBHOOKS: plain-http webhook URLs to any host (a closed network, a test rig). */
  allowHttpWebhooks?: boolean;
}

const MAX_URL_LENGTH = 2000;
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

/*
 * Settings arrive from HTML forms as well as JSON: a checkbox posts "on" (and nothing when unticked), an emptied
 * text field posts "". Both shapes are accepted so the website can hand over its form body as is.
 */
const flag = z.preprocess(
  (v) => {
    if (typeof v !== 'string') return v;
    const s = v.trim().toLowerCase();
    if (['on', 'true', '1', 'yes'].includes(s)) return true;
    if (['off', 'false', '0', 'no', ''].includes(s)) return false;
    return v;
  },
  z.boolean({ error: 'must be true or false' }),
);

const blankToNull = (v: unknown): unknown => (typeof v === 'string' && v.trim() === '' ? null : v);

const email = z.preprocess(
  (v) => (typeof v === 'string' ? (blankToNull(v) === null ? null : v.trim()) : v),
  z.email({ error: 'is not a valid email address' }).max(254, { error: 'is longer than 254 characters' }).nullable(),
);

function webhookUrl(options: NotificationSettingsOptions) {
  return z.preprocess(
    (v) => (typeof v === 'string' ? (blankToNull(v) === null ? null : v.trim()) : v),
    z
      .string({ error: 'must be a URL' })
      .max(MAX_URL_LENGTH, { error: `is longer than ${MAX_URL_LENGTH} characters` })
      .nullable()
      .superRefine((value, ctx) => {
        if (value === null) return;
        const problem = webhookUrlProblem(value, options);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
      }),
  );
}

/**
 * Why a webhook URL is refused, or undefined when it is fine. Also used at delivery time: a URL stored while the
 * server allowed plain http must not be called once it no longer does.
 */
export function webhookUrlProblem(value: string, options: NotificationSettingsOptions = {}): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a valid URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must start with https://';
  if (url.protocol === 'http:' && options.allowHttpWebhooks !== true && !LOOPBACK_HOSTS.has(url.hostname)) {
    return 'must use https:// (plain http is only allowed for localhost)';
  }
  // Credentials in the URL would end up in logs and the settings page; the signature authenticates us instead.
  if (url.username !== '' || url.password !== '') return 'must not contain a user name or password';
  if (url.hash !== '') return 'must not contain a #fragment';
  return undefined;
}

function settingsSchema(options: NotificationSettingsOptions) {
  return z
    .object({
      enabled: flag,
      email,
      emailOnBlockingError: flag,
      emailOnReauthNeeded: flag,
      webhookUrl: webhookUrl(options),
      webhookEnabled: flag,
    })
    .partial()
    .strict();
}

const FIELD_LABELS: Readonly<Record<keyof NotificationSettings, string>> = {
  enabled: 'Notifications',
  email: 'Notification email',
  emailOnBlockingError: 'Email on blocking errors',
  emailOnReauthNeeded: 'Email when a reconnect is needed',
  webhookUrl: 'Webhook URL',
  webhookEnabled: 'Webhook enabled',
};

/**
 * Validates a (partial) notification settings patch from a form or a JSON body and returns only the keys it sets,
 * normalised (trimmed, "" → null, "on" → true). Throws a ValidationError whose message names every bad field and
 * whose `details.fields` maps field → problem, so a form can show each next to its input.
 *
 * Accepted keys: enabled, email (address or ""/null for the account email), emailOnBlockingError,
 * emailOnReauthNeeded, webhookUrl (https URL, http only for localhost unless allowHttpWebhooks, ""/null to remove),
 * webhookEnabled. Unknown keys are refused so a typo does not silently do nothing.
 */
export function parseNotificationSettings(
  input: unknown,
  options: NotificationSettingsOptions = {},
): Partial<NotificationSettings> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError('Notification settings must be an object');
  }
  const result = settingsSchema(options).safeParse(input);
  if (result.success) return result.data;
  const fields: Record<string, string> = {};
  for (const issue of result.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) fields[key] = 'is not a notification setting';
      continue;
    }
    const key = String(issue.path[0] ?? 'settings');
    fields[key] ??= issue.message;
  }
  // In form order, whatever order the checks ran in (URL checks run last).
  const order = Object.keys(FIELD_LABELS);
  const rank = (key: string) => (order.includes(key) ? order.indexOf(key) : order.length);
  const message = Object.entries(fields)
    .sort(([a], [b]) => rank(a) - rank(b))
    .map(([key, problem]) => `${FIELD_LABELS[key as keyof NotificationSettings] ?? key} ${problem}`)
    .join('; ');
  throw new ValidationError(message, { fields });
}
