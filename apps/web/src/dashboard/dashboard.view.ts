import { type FeedEntry } from '@tributary/db';
import { type SafeHtml, html } from '../site/html.util';
import { layout } from '../site/layout.view';
import { connectButton, formatTime, roles } from '../site/site.views';
import { type BlockingErrorView, type ConnectionCardView, type DashboardModel } from './dashboard.service';
import { type SyncStatus } from './sync-status.util';

export const DASHBOARD_SCRIPT_PATH = '/assets/dashboard.js';

const STATUS_LABEL: Readonly<Record<ConnectionCardView['status'], string>> = {
  ok: 'OK',
  needs_reauth: 'Needs re-authorization',
  disabled: 'Disabled',
  error: 'Error',
};

const PRESENCE_LABEL: Readonly<Record<string, string>> = {
  present: 'there',
  missing: 'missing',
  pending: 'pending',
  excluded: 'not sent',
  failed: 'failed',
};

function syncPanel(sync: SyncStatus, available: boolean, csrfToken: string): SafeHtml {
  const cooldown = sync.cooldownSeconds > 0 ? `Sync now is available again in ${sync.cooldownSeconds} s.` : '';
  return html`<section class="card sync-panel" aria-labelledby="sync-title">
    <h2 id="sync-title">Sync</h2>
    <p>
      Last sync:
      <strong
        data-sync-status
        data-state="${sync.state}"
        data-active="${sync.active ? 'true' : 'false'}"
        role="status"
        aria-live="polite"
        >${sync.label}</strong
      >
      ${sync.finishedAt === null ? '' : html`<span class="muted">· ${formatTime(new Date(sync.finishedAt))}</span>`}
    </p>
    <progress max="100" value="${sync.percent}" data-sync-progress ${sync.active ? '' : html`hidden`}>
      ${sync.percent} %
    </progress>
    ${
      available
        ? html`<form method="post" action="/dashboard/sync" class="inline" data-sync-form>
              <input type="hidden" name="_csrf" value="${csrfToken}" />
              <button type="submit" class="primary">Sync now</button>
            </form>
            <p class="muted" data-sync-cooldown>${cooldown}</p>`
        : html`<p class="muted">Sync now is not available on this hub right now.</p>`
    }
  </section>`;
}

function errorItem(e: BlockingErrorView, csrfToken: string): SafeHtml {
  return html`<li class="card problem-item" data-error="${e.id}">
    <p>
      ${e.serviceName === null ? '' : html`<strong>${e.serviceName}:</strong>`} ${e.message}
      <span class="muted">(${e.count}× · last ${formatTime(e.lastAt)})</span>
    </p>
    ${
      e.fix.kind === 'reconnect'
        ? html`<a class="button primary" href="${e.fix.href}">${e.fix.label}</a>`
        : html`<form method="post" action="/dashboard/errors/${e.id}/resolve" class="inline">
            <input type="hidden" name="_csrf" value="${csrfToken}" />
            <button type="submit" class="primary">${e.fix.label}</button>
          </form>`
    }
  </li>`;
}

function connectionCard(c: ConnectionCardView, csrfToken: string): SafeHtml {
  return html`<li class="card connection" data-connection="${c.service}">
    <h2>${c.serviceName}</h2>
    <p class="account">${c.account}</p>
    <dl class="facts">
      <dt>Status</dt>
      <dd>
        <span class="status status-${c.status}">${STATUS_LABEL[c.status]}</span>
        ${c.problems.map((p) => html` · <span class="status status-error" data-problem>${p}</span>`)}
      </dd>
      <dt>Last synced</dt>
      <dd>${formatTime(c.lastListedAt)}</dd>
      <dt>Connected</dt>
      <dd>${formatTime(c.connectedAt)}</dd>
    </dl>
    <div class="actions">
      ${
        c.status === 'needs_reauth' && c.reconnectable
          ? html`<a class="button primary" href="/connect/${c.service}">Reauthorize</a>`
          : ''
      }
      <a class="button" href="/connections/${c.id}/settings">Settings</a>
      <form method="post" action="/connections/${c.id}/disconnect" class="inline">
        <input type="hidden" name="_csrf" value="${csrfToken}" />
        <button type="submit" class="danger">Disconnect ${c.serviceName}</button>
      </form>
    </div>
  </li>`;
}

function formatDistance(metres: number | null): string {
  return metres === null || metres <= 0 ? '' : ` · ${(metres / 1000).toFixed(1)} km`;
}

function feedItem(a: FeedEntry, names: Record<string, string>): SafeHtml {
  return html`<li class="feed-item" data-activity="${a.id}">
    <div>
      <strong>${a.name ?? a.type}</strong>
      <span class="muted">${a.type}${formatDistance(a.distance)} · ${formatTime(a.startAt)}</span>
    </div>
    <ul class="presence">
      ${a.presence.map(
        (p) =>
          html`<li data-presence="${p.service}" data-state="${p.state}" class="chip chip-${p.state}">
            ${names[p.service] ?? p.service}:
            ${PRESENCE_LABEL[p.state] ?? p.state}${p.reasonCode === null ? '' : ` (${p.reasonCode})`}
          </li>`,
      )}
    </ul>
  </li>`;
}

export function renderDashboard(input: {
  model: DashboardModel;
  csrfToken: string;
  notice?: string;
  isAdmin?: boolean;
}): string {
  const { model, csrfToken } = input;
  const main = html` <h1>Your services</h1>
    ${input.notice === undefined ? '' : html`<p class="notice" role="status">${input.notice}</p>`}
    ${syncPanel(model.sync, model.syncAvailable, csrfToken)}
    <div data-dashboard-live>
      ${
        model.errors.length === 0
          ? ''
          : html`<section aria-labelledby="errors-title">
              <h2 id="errors-title">Needs your attention</h2>
              <ul class="cards problems">
                ${model.errors.map((e) => errorItem(e, csrfToken))}
              </ul>
            </section>`
      }
      <ul class="cards">
        ${model.connections.map((c) => connectionCard(c, csrfToken))}
      </ul>
      ${model.connections.length === 1 ? html`<p class="muted">Disconnecting your only service deletes your Tributary account.</p>` : ''}
      <section aria-labelledby="feed-title">
        <h2 id="feed-title">Recent activity</h2>
        ${
          model.feed.length === 0
            ? html`<p class="muted">No activities yet. They appear here after the first sync.</p>`
            : html`<ol class="feed">
                ${model.feed.map((a) => feedItem(a, model.serviceNames))}
              </ol>`
        }
      </section>
    </div>
    ${
      model.available.length === 0
        ? ''
        : html`<section aria-labelledby="more-title">
            <h2 id="more-title">Connect more services</h2>
            <ul class="cards">
              ${model.available.map(
                (s) =>
                  html`<li class="card" data-service="${s.id}">
                    <h3>${s.name}</h3>
                    <p class="muted">${roles(s)}</p>
                    <p>${connectButton(s, 'Connect')}</p>
                  </li>`,
              )}
            </ul>
          </section>`
    }`;
  return layout({
    title: 'Dashboard',
    signedIn: true,
    section: 'dashboard',
    isAdmin: input.isAdmin,
    csrfToken,
    scripts: [DASHBOARD_SCRIPT_PATH],
    main,
  });
}
