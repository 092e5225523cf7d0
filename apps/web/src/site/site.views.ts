import { type SafeHtml, html } from './html.util';
import { layout } from './layout.view';

/** A service as the pages show it. */
export interface ServiceCard {
  id: string;
  name: string;
  authKind: 'oauth2' | 'credentials' | 'path';
  supplies: boolean;
  receives: boolean;
  /** The hub can start connecting it from the website now (OAuth configured). */
  connectable: boolean;
  /** The signed-in user already has it connected. */
  connected?: boolean;
}

const AUTH_LABEL: Readonly<Record<ServiceCard['authKind'], string>> = {
  oauth2: 'Sign in with the service (OAuth)',
  credentials: 'Username and password',
  path: 'A folder on this server',
};

export function roles(s: Pick<ServiceCard, 'supplies' | 'receives'>): string {
  if (s.supplies && s.receives) return 'Sends and receives activities';
  if (s.supplies) return 'Sends activities';
  if (s.receives) return 'Receives activities';
  return 'Not syncing';
}

export function connectButton(
  s: Pick<ServiceCard, 'id' | 'name' | 'connectable' | 'connected'>,
  label: string,
): SafeHtml {
  if (s.connected === true) return html`<a href="/dashboard">Connected</a>`;
  if (s.connectable) return html`<a class="button" href="/connect/${s.id}">${label} ${s.name}</a>`;
  return html`<span class="muted">Set up by the operator of this hub</span>`;
}

export function renderLanding(input: { services: ServiceCard[]; signedIn: boolean; csrfToken?: string }): string {
  const main = html` <section class="hero">
      <h1>Every activity, everywhere.</h1>
      <p class="lead">
        Tributary keeps your fitness accounts in sync. Record a run on your watch, a ride on your bike computer or a
        swim anywhere else: it shows up on every service you connect, without duplicates, in the right time zone and in
        a format each service accepts.
      </p>
      ${
        input.signedIn
          ? html`<p><a class="button primary" href="/dashboard">Go to your dashboard</a></p>`
          : html`<p>
              There is no password to create: <strong>connect a service to start</strong>. Connecting another service
              later adds it to the same account. Set a password in your settings?
              <a href="/login">Sign in with email</a>.
            </p>`
      }
    </section>
    <section aria-labelledby="services-title">
      <h2 id="services-title">Services</h2>
      <ul class="cards">
        ${input.services.map(
          (s) =>
            html`<li class="card" data-service="${s.id}">
              <h3>${s.name}</h3>
              <p class="muted">${AUTH_LABEL[s.authKind]} · ${roles(s)}</p>
              <p>${connectButton(s, 'Connect')}</p>
            </li>`,
        )}
      </ul>
    </section>
    <section aria-labelledby="how-title">
      <h2 id="how-title">How it works</h2>
      <ol class="steps">
        <li>Connect the services you use.</li>
        <li>Tributary checks them on a schedule, and at once when a service notifies it of a new activity.</li>
        <li>Each new activity is copied to every other connected service that can take it.</li>
      </ol>
    </section>`;
  return layout({ title: 'Sync your fitness activities', signedIn: input.signedIn, csrfToken: input.csrfToken, main });
}

export function formatTime(at: Date | null): SafeHtml {
  if (at === null) return html`<span class="muted">not yet</span>`;
  const iso = at.toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 16).replace('T', ' ')} UTC</time>`;
}

export function renderErrorPage(input: { title: string; message: string; status: number }): string {
  const main = html` <section class="problem">
    <h1>${input.title}</h1>
    <p>${input.message}</p>
    <p><a class="button" href="/">Back to the start page</a></p>
    <p class="muted">HTTP ${input.status}</p>
  </section>`;
  return layout({ title: input.title, main });
}

export function renderCredentialsLogin(input: {
  service: { id: string; name: string };
  csrfToken: string;
  signedIn: boolean;
  error?: string;
  username?: string;
}): string {
  const main = html` <section class="form-page">
    <h1>Connect ${input.service.name}</h1>
    <p>
      ${input.service.name} has no sign-in page for other apps, so Tributary logs in with your username and password.
      They are stored encrypted and used only to reach your ${input.service.name} activities.
    </p>
    ${input.error === undefined ? '' : html`<p class="error" role="alert">${input.error}</p>`}
    <form method="post" action="/connect/${input.service.id}/login" class="stack">
      <input type="hidden" name="_csrf" value="${input.csrfToken}" />
      <label for="username">Email or username</label>
      <input
        id="username"
        name="username"
        type="text"
        autocomplete="username"
        required
        maxlength="200"
        value="${input.username ?? ''}"
      />
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required maxlength="500" />
      <button type="submit" class="primary">Connect ${input.service.name}</button>
    </form>
  </section>`;
  return layout({ title: `Connect ${input.service.name}`, signedIn: input.signedIn, csrfToken: input.csrfToken, main });
}

export function renderMfaForm(input: {
  service: { id: string; name: string };
  csrfToken: string;
  signedIn: boolean;
  method?: string;
  message?: string;
}): string {
  const via = input.method === undefined ? '' : ` (sent by ${input.method})`;
  const main = html` <section class="form-page">
    <h1>Verification code</h1>
    <p>${input.service.name} sent you a verification code${via}. Enter it to finish connecting.</p>
    ${input.message === undefined ? '' : html`<p class="error" role="alert">${input.message}</p>`}
    <form method="post" action="/connect/${input.service.id}/mfa" class="stack">
      <input type="hidden" name="_csrf" value="${input.csrfToken}" />
      <label for="code">Code</label>
      <input
        id="code"
        name="code"
        type="text"
        inputmode="numeric"
        autocomplete="one-time-code"
        required
        maxlength="12"
      />
      <button type="submit" class="primary">Verify</button>
    </form>
  </section>`;
  return layout({ title: 'Verification code', signedIn: input.signedIn, csrfToken: input.csrfToken, main });
}
