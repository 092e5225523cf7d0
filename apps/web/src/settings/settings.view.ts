import { type NotificationSettings, type UserSettings } from '@tributary/db';
import { type SafeHtml, html } from '../site/html.util';
import { layout } from '../site/layout.view';

export const SETTINGS_SCRIPT_PATH = '/assets/settings.js';

/** Every IANA zone the runtime knows, offered as suggestions (the field still accepts any valid name). */
const ZONES: readonly string[] = Intl.supportedValuesOf('timeZone');

type FieldErrors = Readonly<Record<string, string>>;

function fieldError(errors: FieldErrors, name: string): SafeHtml | string {
  const message = errors[name];
  return message === undefined ? '' : html`<span class="field-error" id="${name}-error">${message}</span>`;
}

function checked(on: boolean): SafeHtml | string {
  return on ? html`checked` : '';
}

function banner(notice?: string, error?: string): SafeHtml {
  return html`${notice === undefined ? '' : html`<p class="notice" role="status">${notice}</p>`}
  ${error === undefined ? '' : html`<p class="error" role="alert">${error}</p>`}`;
}

export interface AccountSettingsPage {
  csrfToken: string;
  isAdmin?: boolean;
  settings: UserSettings;
  notifications: NotificationSettings;
  accountEmail: string | null;
  passwordEnabled: boolean;
  notice?: string;
  error?: string;
  errors?: FieldErrors;
  /** What was typed into a refused form, shown again so nothing is lost. */
  draft?: Readonly<Record<string, string>>;
}

export function renderAccountSettings(p: AccountSettingsPage): string {
  const errors = p.errors ?? {};
  const val = (name: string, stored: string): string => p.draft?.[name] ?? stored;
  const s = p.settings;
  const n = p.notifications;
  const csrf = html`<input type="hidden" name="_csrf" value="${p.csrfToken}" />`;
  const main = html`<h1>Settings</h1>
    ${banner(p.notice, p.error)}
    <form method="post" action="/settings" class="stack settings-form" data-settings-form>
      ${csrf}
      <fieldset>
        <legend>Sync</legend>
        <label class="check"
          ><input type="radio" name="sync" value="auto" ${checked(s.autoSync)} /> Automatic: on a schedule and when a
          service reports a new activity</label
        >
        <label class="check"
          ><input type="radio" name="sync" value="manual" ${checked(!s.autoSync)} /> Manual: only when I press Sync
          now</label
        >
        ${fieldError(errors, 'sync')}
        <label for="uploadDelayMinutes">Upload delay (minutes)</label>
        <input
          id="uploadDelayMinutes"
          name="uploadDelayMinutes"
          type="number"
          min="0"
          max="10080"
          step="1"
          inputmode="numeric"
          value="${val('uploadDelayMinutes', String(Math.round(s.uploadDelaySeconds / 60)))}"
        />
        <span class="muted">Wait this long after an activity ends before copying it, so you can edit it first.</span>
        ${fieldError(errors, 'uploadDelayMinutes')}
        <label for="skipBefore">Skip activities before</label>
        <input
          id="skipBefore"
          name="skipBefore"
          type="date"
          value="${val('skipBefore', s.skipBefore?.slice(0, 10) ?? '')}"
        />
        ${fieldError(errors, 'skipBefore')}
        <label for="timezone">Time zone when an activity has none</label>
        <input
          id="timezone"
          name="timezone"
          type="text"
          list="zones"
          maxlength="64"
          autocomplete="off"
          placeholder="Guess from my other activities"
          value="${val('timezone', s.timezoneFallback ?? '')}"
        />
        <datalist id="zones">${ZONES.map((z) => html`<option value="${z}"></option>`)}</datalist>
        ${fieldError(errors, 'timezone')}
      </fieldset>
      <fieldset>
        <legend>Notifications</legend>
        <label class="check"
          ><input type="checkbox" name="notifyEnabled" ${checked(n.enabled)} /> Tell me when syncing is blocked</label
        >
        <label class="check"
          ><input type="checkbox" name="notifyOnReauth" ${checked(n.emailOnReauthNeeded)} /> Email when a service needs
          reconnecting</label
        >
        <label class="check"
          ><input type="checkbox" name="notifyOnBlockingError" ${checked(n.emailOnBlockingError)} /> Email about other
          blocking problems (account full, expired…)</label
        >
        <label for="notifyEmail">Notification email</label>
        <input
          id="notifyEmail"
          name="notifyEmail"
          type="email"
          maxlength="254"
          autocomplete="email"
          placeholder="${p.accountEmail ?? 'you@example.com'}"
          value="${val('notifyEmail', n.email ?? '')}"
        />
        ${fieldError(errors, 'email')}
        <label for="notifyWebhookUrl">Webhook URL</label>
        <input
          id="notifyWebhookUrl"
          name="notifyWebhookUrl"
          type="url"
          maxlength="2000"
          placeholder="https://example.com/hooks/tributary"
          value="${val('notifyWebhookUrl', n.webhookUrl ?? '')}"
        />
        ${fieldError(errors, 'webhookUrl')}
        <label class="check"
          ><input type="checkbox" name="notifyWebhookEnabled" ${checked(n.webhookEnabled)} /> Send to the webhook</label
        >
      </fieldset>
      <button type="submit" class="primary">Save settings</button>
    </form>

    <section aria-labelledby="login-title">
      <h2 id="login-title">Email and password</h2>
      <p class="muted">
        Optional: sign in with an email and password instead of through one of your services.
        ${p.passwordEnabled ? html`Password login is <strong>on</strong> for ${p.accountEmail ?? ''}.` : 'It is off.'}
      </p>
      <form method="post" action="/settings/password" class="stack">
        ${csrf}
        <label for="loginEmail">Email</label>
        <input
          id="loginEmail"
          name="email"
          type="email"
          required
          maxlength="254"
          autocomplete="username"
          value="${val('email', p.accountEmail ?? '')}"
        />
        ${fieldError(errors, 'loginEmail')}
        ${
          p.passwordEnabled
            ? html`<label for="currentPassword">Current password</label>
                <input
                  id="currentPassword"
                  name="currentPassword"
                  type="password"
                  autocomplete="current-password"
                  maxlength="256"
                />
                ${fieldError(errors, 'currentPassword')}`
            : ''
        }
        <label for="newPassword">New password (at least 10 characters)</label>
        <input
          id="newPassword"
          name="password"
          type="password"
          required
          minlength="10"
          maxlength="256"
          autocomplete="new-password"
        />
        ${fieldError(errors, 'password')}
        <label for="confirmPassword">New password again</label>
        <input
          id="confirmPassword"
          name="confirm"
          type="password"
          required
          minlength="10"
          maxlength="256"
          autocomplete="new-password"
        />
        ${fieldError(errors, 'confirm')}
        <button type="submit" class="primary">
          ${p.passwordEnabled ? 'Change password' : 'Turn on password login'}
        </button>
      </form>
      ${
        p.passwordEnabled
          ? html`<form method="post" action="/settings/password/remove" class="stack">
              ${csrf}
              <label for="removeCurrentPassword">Current password</label>
              <input
                id="removeCurrentPassword"
                name="currentPassword"
                type="password"
                required
                autocomplete="current-password"
                maxlength="256"
              />
              <button type="submit" class="danger">Turn off password login</button>
            </form>`
          : ''
      }
    </section>

    <section aria-labelledby="export-title">
      <h2 id="export-title">Export all my data</h2>
      <p>
        A zip of every activity's original file, with an index (JSON and CSV) of where each one is. Large histories take
        a while.
      </p>
      <p><a class="button" href="/settings/export" data-export download>Download my data</a></p>
      <p class="muted" data-export-status role="status" aria-live="polite"></p>
    </section>

    <section aria-labelledby="delete-title" class="danger-zone">
      <h2 id="delete-title">Delete my account</h2>
      <p>
        Disconnects every service (their tokens are revoked), then deletes everything Tributary stored about you. Your
        activities at the services themselves stay where they are. This cannot be undone.
      </p>
      <form method="post" action="/settings/delete" class="stack">
        ${csrf}
        <label for="deleteConfirm">Type DELETE to confirm</label>
        <input id="deleteConfirm" name="confirm" type="text" required autocomplete="off" maxlength="20" />
        ${fieldError(errors, 'deleteConfirm')}
        <button type="submit" class="danger">Delete my account</button>
      </form>
    </section>`;
  return layout({
    title: 'Settings',
    signedIn: true,
    section: 'settings',
    isAdmin: p.isAdmin,
    csrfToken: p.csrfToken,
    scripts: [SETTINGS_SCRIPT_PATH],
    main,
  });
}

export interface PeerConnection {
  id: string;
  serviceName: string;
  /** This connection's activities go there (no flow exception this → peer). */
  sendTo: boolean;
  /** Activities from there come here (no flow exception peer → this). */
  receiveFrom: boolean;
  /** The peer can take activities / supply them at all. */
  receives: boolean;
  supplies: boolean;
}

export interface ConnectionSettingsPage {
  csrfToken: string;
  isAdmin?: boolean;
  id: string;
  service: string;
  serviceName: string;
  account: string;
  supplies: boolean;
  receives: boolean;
  syncPrivate: boolean;
  peers: PeerConnection[];
  /** Only for file services (Dropbox, a local folder). */
  files?: { folder: string; nameTemplate: string; format: string; formats: readonly string[] };
  notice?: string;
  error?: string;
  errors?: FieldErrors;
}

export function renderConnectionSettings(p: ConnectionSettingsPage): string {
  const errors = p.errors ?? {};
  const sendPeers = p.supplies ? p.peers.filter((x) => x.receives) : [];
  const receivePeers = p.receives ? p.peers.filter((x) => x.supplies) : [];
  const main = html`<p><a href="/dashboard">← Dashboard</a></p>
    <h1>${p.serviceName} settings</h1>
    <p class="account">${p.account}</p>
    ${banner(p.notice, p.error)}
    <form
      method="post"
      action="/connections/${p.id}/settings"
      class="stack settings-form"
      data-connection-settings="${p.service}"
    >
      <input type="hidden" name="_csrf" value="${p.csrfToken}" />
      ${
        p.supplies
          ? html`<label class="check"
              ><input type="checkbox" name="syncPrivate" ${checked(p.syncPrivate)} /> Also copy activities that are
              private at ${p.serviceName}</label
            >`
          : ''
      }
      ${
        sendPeers.length === 0
          ? ''
          : html`<fieldset>
              <legend>Send ${p.serviceName} activities to</legend>
              ${sendPeers.map(
                (x) =>
                  html`<label class="check"
                    ><input type="checkbox" name="sendTo" value="${x.id}" ${checked(x.sendTo)} />
                    ${x.serviceName}</label
                  >`,
              )}
            </fieldset>`
      }
      ${
        receivePeers.length === 0
          ? ''
          : html`<fieldset>
              <legend>Receive activities from</legend>
              ${receivePeers.map(
                (x) =>
                  html`<label class="check"
                    ><input type="checkbox" name="receiveFrom" value="${x.id}" ${checked(x.receiveFrom)} />
                    ${x.serviceName}</label
                  >`,
              )}
            </fieldset>`
      }
      ${
        p.files === undefined
          ? ''
          : html`<fieldset>
              <legend>Files</legend>
              <label for="folder">Folder</label>
              <input id="folder" name="folder" type="text" maxlength="500" value="${p.files.folder}" />
              ${fieldError(errors, 'folder')}
              <label for="nameTemplate">File name</label>
              <input
                id="nameTemplate"
                name="nameTemplate"
                type="text"
                maxlength="200"
                value="${p.files.nameTemplate}"
              />
              <span class="muted"
                >%Y %m %d %H %M %S: local start time; #NAME and #TYPE: the activity's name and type.</span
              >
              ${fieldError(errors, 'nameTemplate')}
              <label for="format">Format</label>
              <select id="format" name="format">
                ${p.files.formats.map(
                  (f) =>
                    html`<option value="${f}" ${f === p.files?.format ? html`selected` : ''}>
                      ${f.toUpperCase()}
                    </option>`,
                )}
              </select>
              ${fieldError(errors, 'format')}
            </fieldset>`
      }
      <button type="submit" class="primary">Save</button>
    </form>
    <section aria-labelledby="disconnect-title" class="danger-zone">
      <h2 id="disconnect-title">Disconnect</h2>
      <p>Revokes Tributary's access at ${p.serviceName} and removes what Tributary cached about this account.</p>
      <form method="post" action="/connections/${p.id}/disconnect" class="inline">
        <input type="hidden" name="_csrf" value="${p.csrfToken}" />
        <button type="submit" class="danger">Disconnect ${p.serviceName}</button>
      </form>
    </section>`;
  return layout({
    title: `${p.serviceName} settings`,
    signedIn: true,
    section: 'dashboard',
    isAdmin: p.isAdmin,
    csrfToken: p.csrfToken,
    main,
  });
}
