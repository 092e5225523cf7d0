import { type BlockingGroup } from './notification-group.util';

/** The JSON body POSTed to a user's webhook. */
export interface BlockedWebhookPayload {
  type: 'sync.blocked';
  userId: string;
  /** The intervention group (`reauth`, `account_full`…); stable, meant for machines. */
  group: string;
  /** Canonical service id (`strava`, `garmin_connect`, `dropbox`, `local_folder`); null for account-wide errors. */
  service: string | null;
  connectionId: string | null;
  /** What broke and what to do, for people. */
  message: string;
  /** Where the user fixes it. */
  fixUrl: string;
  /** When the problem first occurred (ISO 8601). */
  occurredAt: string;
}

export interface NotificationMessage {
  subject: string;
  text: string;
  html: string;
  payload: BlockedWebhookPayload;
}

const SERVICE_NAMES: Readonly<Record<string, string>> = {
  strava: 'Strava',
  garmin_connect: 'Garmin Connect',
  dropbox: 'Dropbox',
  local_folder: 'your local folder',
};

/** Connection rows may spell services in kebab-case (`garmin-connect`); notifications use the canonical ids. */
export function canonicalService(service: string | null): string | null {
  return service === null ? null : service.replace(/-/g, '_');
}

function serviceName(service: string | null): string {
  if (service === null) return 'a service';
  return SERVICE_NAMES[service] ?? service;
}

/** Headline and the one thing to do, per group; `{s}` is the service's name. */
const GROUP_TEXT: Readonly<Record<string, { headline: string; action: string }>> = {
  reauth: {
    headline: 'Tributary can no longer reach your {s} account',
    action: 'Reconnect {s} from your dashboard; syncing resumes by itself afterwards.',
  },
  account_full: {
    headline: 'Your {s} account is full',
    action: 'Free up space at {s}, then press "It\'s fixed" on your dashboard.',
  },
  account_expired: {
    headline: 'Your {s} subscription has expired',
    action: 'Renew it at {s}, then press "It\'s fixed" on your dashboard.',
  },
  account_locked: {
    headline: 'Your {s} account is locked',
    action: 'Unlock it at {s}, then press "It\'s fixed" on your dashboard.',
  },
  upload_consent: {
    headline: '{s} needs your consent before Tributary can upload',
    action: 'Give the consent at {s}, then press "It\'s fixed" on your dashboard.',
  },
  account_type: {
    headline: 'Your {s} account type cannot be synced',
    action: 'Change the account type at {s}, then press "It\'s fixed" on your dashboard.',
  },
};

const FALLBACK_TEXT = {
  headline: 'Syncing with {s} is blocked',
  action: 'Open your dashboard to see what happened and what to do.',
};

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The URL the user acts on: the dashboard, where the group's fix button lives. */
export function fixUrlFor(publicUrl: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/dashboard`;
}

/** The email and webhook body for one blocking group of one user. */
export function buildNotificationMessage(input: {
  userId: string;
  group: BlockingGroup;
  /** The connection's service, or null for an account-wide error. */
  service: string | null;
  publicUrl: string;
}): NotificationMessage {
  const service = canonicalService(input.service);
  const name = serviceName(service);
  const template = GROUP_TEXT[input.group.group] ?? FALLBACK_TEXT;
  const headline = template.headline.replace(/\{s\}/g, name);
  const action = template.action.replace(/\{s\}/g, name);
  const fixUrl = fixUrlFor(input.publicUrl);
  const detail = input.group.message.trim();
  const subject = `Tributary: ${headline.charAt(0).toLowerCase()}${headline.slice(1)}`;
  const text = [
    `${headline}.`,
    '',
    'Syncing with it has stopped until this is fixed; nothing is lost meanwhile.',
    '',
    action,
    fixUrl,
    '',
    `What the service said: ${detail}`,
    '',
    'You get this email once per problem. Change notifications in your Tributary settings.',
    '',
  ].join('\n');
  const html = [
    '<!doctype html><html><body style="font-family:sans-serif;line-height:1.4">',
    `<p><strong>${escapeHtml(headline)}.</strong></p>`,
    '<p>Syncing with it has stopped until this is fixed; nothing is lost meanwhile.</p>',
    `<p>${escapeHtml(action)}</p>`,
    `<p><a href="${escapeHtml(fixUrl)}">Fix it on your dashboard</a></p>`,
    `<p style="color:#555">What the service said: ${escapeHtml(detail)}</p>`,
    '<p style="color:#555">You get this email once per problem. Change notifications in your Tributary settings.</p>',
    '</body></html>',
  ].join('\n');
  return {
    subject,
    text,
    html,
    payload: {
      type: 'sync.blocked',
      userId: input.userId,
      group: input.group.group,
      service,
      connectionId: input.group.connectionId,
      message: `${headline}. ${action} (${detail})`,
      fixUrl,
      occurredAt: input.group.occurredAt.toISOString(),
    },
  };
}
