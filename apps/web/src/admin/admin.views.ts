import { type AuditEntryView, type UserSearchHit } from '@tributary/db';
import { type SafeHtml, html } from '../site/html.util';
import { layout } from '../site/layout.view';
import { formatSeconds, renderDurationChart } from './admin-chart.view';
import { type QueueReport } from './admin-queues.service';
import { type AdminOverview, DURATION_WINDOWS, type DurationWindow, type UserDetail } from './admin.service';

type AdminTab = 'overview' | 'users' | 'audit';

interface PageBase {
  csrfToken: string;
}

function time(at: Date | null | undefined): SafeHtml {
  if (at === null || at === undefined) return html`<span class="muted">never</span>`;
  const iso = at.toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 16).replace('T', ' ')} UTC</time>`;
}

function adminPage(input: PageBase & { title: string; tab: AdminTab; main: SafeHtml }): string {
  const tabs: { id: AdminTab; href: string; label: string }[] = [
    { id: 'overview', href: '/admin', label: 'Overview' },
    { id: 'users', href: '/admin/users', label: 'Users' },
    { id: 'audit', href: '/admin/audit', label: 'Audit log' },
  ];
  const main = html`<div class="admin">
    <nav class="admin-tabs" aria-label="Admin">
      ${tabs.map((t) => html`<a href="${t.href}" ${t.id === input.tab ? html`aria-current="page"` : ''}>${t.label}</a>`)}
      <a href="/admin/queues/">Queue board</a>
    </nav>
    ${input.main}
  </div>`;
  return layout({
    title: input.title,
    csrfToken: input.csrfToken,
    signedIn: true,
    isAdmin: true,
    section: 'admin',
    main,
  });
}

function queueCard(q: QueueReport): SafeHtml {
  return html`<li class="card" data-queue="${q.name}">
    <h3>${q.name} ${q.paused ? html`<span class="status status-disabled">paused</span>` : ''}</h3>
    ${q.error === undefined ? '' : html`<p class="error" role="alert">Could not read this queue: ${q.error}</p>`}
    <dl class="facts">
      <dt>Waiting</dt>
      <dd data-count="waiting">${q.waiting}</dd>
      <dt>Active</dt>
      <dd data-count="active">${q.active}</dd>
      <dt>Delayed</dt>
      <dd data-count="delayed">${q.delayed}</dd>
      <dt>Failed</dt>
      <dd data-count="failed" class="${q.failed > 0 ? 'status-error' : ''}">${q.failed}</dd>
      <dt>Stalled</dt>
      <dd data-count="stalled" class="${q.stalled > 0 ? 'status-error' : ''}">${q.stalled}</dd>
      <dt>Oldest waiting</dt>
      <dd>
        ${q.oldestWaitingMs === null ? html`<span class="muted">nothing waits</span>` : formatSeconds(q.oldestWaitingMs / 1000)}
      </dd>
      <dt>Workers</dt>
      <dd data-count="workers">
        ${q.workers === null ? html`<span class="muted">not listed by Redis</span>` : q.workers.length}
      </dd>
    </dl>
    ${
      q.workers !== null && q.workers.length > 0
        ? html`<details>
            <summary>Workers</summary>
            <ul class="plain">
              ${q.workers.map(
                (w) =>
                  html`<li>
                    <code>${w.addr}</code> up ${formatSeconds(w.ageSeconds)}, idle ${formatSeconds(w.idleSeconds)}
                  </li>`,
              )}
            </ul>
          </details>`
        : ''
    }
    ${
      q.schedulers.length > 0
        ? html`<details>
            <summary>Schedules</summary>
            <ul class="plain">
              ${q.schedulers.map(
                (s) =>
                  html`<li>
                    <code>${s.id}</code> every ${s.everyMs === null ? '?' : formatSeconds(s.everyMs / 1000)}, next
                    ${time(s.next)}
                  </li>`,
              )}
            </ul>
          </details>`
        : ''
    }
    ${
      q.recentFailures.length > 0
        ? html`<details>
            <summary>Latest failures</summary>
            <ul class="plain">
              ${q.recentFailures.map(
                (f) =>
                  html`<li>
                    <code>${f.id}</code> ${f.stalled ? html`<strong>stalled</strong>` : ''} after ${f.attempts}
                    attempt(s), ${time(f.failedAt)}: <span class="message">${f.reason}</span>
                  </li>`,
              )}
            </ul>
          </details>`
        : ''
    }
  </li>`;
}

export function renderAdminOverview(input: PageBase & { overview: AdminOverview }): string {
  const o = input.overview;
  const { spanMs } = DURATION_WINDOWS[o.window];
  const windows = Object.keys(DURATION_WINDOWS) as DurationWindow[];
  const main = html`<h1>Diagnostics</h1>
    <p class="muted">As of ${time(o.generatedAt)}. <a href="/admin?window=${o.window}">Refresh</a></p>

    <section aria-labelledby="runs-h">
      <h2 id="runs-h">Syncs now</h2>
      <dl class="facts" data-runs>
        <dt>Queued runs</dt>
        <dd>${o.runs.queued}</dd>
        <dt>Running</dt>
        <dd>${o.runs.running}</dd>
        <dt>Running without heartbeat</dt>
        <dd class="${o.runs.stale > 0 ? 'status-error' : ''}">${o.runs.stale}</dd>
        <dt>Leases held</dt>
        <dd>${o.runs.leasesHeld}</dd>
        <dt>Leases expired, not released</dt>
        <dd class="${o.runs.leasesExpired > 0 ? 'status-needs_reauth' : ''}">${o.runs.leasesExpired}</dd>
      </dl>
    </section>

    <section aria-labelledby="queues-h">
      <h2 id="queues-h">Queues and workers</h2>
      ${
        o.queuesAvailable
          ? html`<ul class="cards">
              ${o.queues.map(queueCard)}
            </ul>`
          : html`<p class="muted">This hub runs without a queue connection.</p>`
      }
      <p><a href="/admin/queues/">Open the queue board</a> to browse jobs (read-only).</p>
    </section>

    <section aria-labelledby="durations-h">
      <h2 id="durations-h">Sync durations</h2>
      <p class="actions">
        ${windows.map((w) =>
          w === o.window ? html`<strong>${w}</strong>` : html`<a href="/admin?window=${w}">${w}</a>`,
        )}
      </p>
      ${renderDurationChart({
        buckets: o.durations,
        from: new Date(o.generatedAt.getTime() - spanMs),
        to: o.generatedAt,
      })}
    </section>

    <section aria-labelledby="errors-h">
      <h2 id="errors-h">Open error groups</h2>
      ${
        o.errorGroups.length === 0
          ? html`<p class="muted">No open sync errors.</p>`
          : html`<div class="table-scroll">
              <table data-error-groups>
                <thead>
                  <tr>
                    <th scope="col">Service</th>
                    <th scope="col">Code</th>
                    <th scope="col">Users</th>
                    <th scope="col">Errors</th>
                    <th scope="col">Occurrences</th>
                    <th scope="col">Last</th>
                    <th scope="col">Examples</th>
                  </tr>
                </thead>
                <tbody>
                  ${o.errorGroups.map(
                    (g) =>
                      html`<tr>
                        <td>${g.service ?? html`<span class="muted">account</span>`}</td>
                        <td>
                          <code>${g.code}</code>
                          ${g.blocking ? html`<span class="status status-error">blocking</span>` : ''}
                        </td>
                        <td>${g.users}</td>
                        <td>${g.errors}</td>
                        <td>${g.occurrences}</td>
                        <td>${time(g.last_at)}</td>
                        <td>
                          <ul class="plain">
                            ${g.examples.map((m) => html`<li class="message">${m}</li>`)}
                          </ul>
                        </td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
      }
    </section>`;
  return adminPage({ ...input, title: 'Admin', tab: 'overview', main });
}

export function renderUserSearch(input: PageBase & { query: string; hits: UserSearchHit[] | null }): string {
  const main = html`<h1>Users</h1>
    <form method="get" action="/admin/users" class="stack search" role="search">
      <label for="q">Email, user id, connection id or account id at a service</label>
      <input id="q" name="q" type="search" value="${input.query}" autocomplete="off" required maxlength="320" />
      <button type="submit" class="primary">Search</button>
    </form>
    ${
      input.hits === null
        ? ''
        : input.hits.length === 0
          ? html`<p data-search-results="0">No user matches “${input.query}”.</p>`
          : html`<ul class="cards" data-search-results="${input.hits.length}">
              ${input.hits.map(
                (u) =>
                  html`<li class="card" data-user="${u.id}">
                    <h2><a href="/admin/users/${u.id}">${u.email ?? 'no email'}</a></h2>
                    <p class="account"><code>${u.id}</code></p>
                    <dl class="facts">
                      <dt>Role</dt>
                      <dd>${u.role}</dd>
                      <dt>Services</dt>
                      <dd>
                        ${u.services.length === 0 ? html`<span class="muted">none</span>` : u.services.join(', ')}
                      </dd>
                      <dt>Last sync</dt>
                      <dd>${time(u.last_sync_at)}</dd>
                      <dt>Lease</dt>
                      <dd>
                        ${u.lease_owner === null ? html`<span class="muted">free</span>` : html`held until ${time(u.lease_expires_at)}`}
                      </dd>
                    </dl>
                  </li>`,
              )}
            </ul>`
    }`;
  return adminPage({ ...input, title: 'Users · Admin', tab: 'users', main });
}

const DETAIL_NOTICES: Readonly<Record<string, string>> = {
  requeued: 'An exhaustive sync was queued at the highest priority.',
  joined: 'A sync was already queued or running; it was made exhaustive and moved to the front.',
  scheduled: 'No queue connection: the scheduler will start the exhaustive sync within a minute.',
  unlocked: 'The lease was released and the running sync failed.',
  'nothing-to-unlock': 'Nothing was locked: no lease was held and no sync was running.',
};

export function renderUserDetail(input: PageBase & { detail: UserDetail; notice?: string }): string {
  const { user, connections, runs, errors, audit, leaseExpired } = input.detail;
  const notice = input.notice === undefined ? undefined : DETAIL_NOTICES[input.notice];
  const main = html`<p><a href="/admin/users">← Users</a></p>
    <h1>${user.email ?? 'User without email'}</h1>
    ${notice === undefined ? '' : html`<p class="notice" role="status">${notice}</p>`}
    <dl class="facts" data-admin-user="${user.id}">
      <dt>User id</dt>
      <dd><code>${user.id}</code></dd>
      <dt>Role</dt>
      <dd>${user.role}</dd>
      <dt>Password login</dt>
      <dd>${user.hasPassword ? 'yes' : 'no'}</dd>
      <dt>Created</dt>
      <dd>${time(user.created_at)}</dd>
      <dt>Last sync</dt>
      <dd>${time(user.last_sync_at)}</dd>
      <dt>Next sync</dt>
      <dd>
        ${user.next_sync_at === null ? html`<span class="muted">on demand</span>` : time(user.next_sync_at)}
        ${user.next_sync_exhaustive ? '(exhaustive)' : ''}
      </dd>
      <dt>Lease</dt>
      <dd data-lease="${user.lease_owner === null ? 'free' : leaseExpired ? 'expired' : 'held'}">
        ${
          user.lease_owner === null
            ? html`<span class="muted">free</span>`
            : html`<code>${user.lease_owner}</code> until ${time(user.lease_expires_at)}
                ${leaseExpired ? html`<strong class="status-error">expired</strong>` : ''}`
        }
      </dd>
    </dl>
    <div class="actions">
      <form method="post" action="/admin/users/${user.id}/requeue" class="inline">
        <input type="hidden" name="_csrf" value="${input.csrfToken}" />
        <button type="submit" class="primary">Requeue exhaustive sync</button>
      </form>
      <form method="post" action="/admin/users/${user.id}/unlock" class="inline">
        <input type="hidden" name="_csrf" value="${input.csrfToken}" />
        <button type="submit" class="danger">Unlock (release lease, fail running sync)</button>
      </form>
    </div>

    <h2>Connections</h2>
    ${
      connections.length === 0
        ? html`<p class="muted">No connected services.</p>`
        : html`<ul class="cards">
            ${connections.map(
              (c) =>
                html`<li class="card" data-connection="${c.service}">
                  <h3>${c.service}</h3>
                  <p class="account">${c.account}</p>
                  <dl class="facts">
                    <dt>Status</dt>
                    <dd class="status status-${c.status}">${c.status}</dd>
                    <dt>Last listed</dt>
                    <dd>${time(c.lastListedAt)}</dd>
                    <dt>Connected</dt>
                    <dd>${time(c.createdAt)}</dd>
                    <dt>Id</dt>
                    <dd><code>${c.id}</code></dd>
                  </dl>
                </li>`,
            )}
          </ul>`
    }

    <h2>Recent syncs</h2>
    ${
      runs.length === 0
        ? html`<p class="muted">No syncs yet.</p>`
        : html`<div class="table-scroll">
            <table data-runs>
              <thead>
                <tr>
                  <th scope="col">Queued</th>
                  <th scope="col">Trigger</th>
                  <th scope="col">Status</th>
                  <th scope="col">Took</th>
                  <th scope="col">Worker</th>
                  <th scope="col">Errors</th>
                </tr>
              </thead>
              <tbody>
                ${runs.map(
                  (r) =>
                    html`<tr data-run="${r.id}" data-status="${r.status}">
                      <td>${time(r.queued_at)}</td>
                      <td>${r.trigger}${r.exhaustive ? ', exhaustive' : ''}</td>
                      <td>${r.status}${r.phase === null ? '' : html` <span class="muted">(${r.phase})</span>`}</td>
                      <td>
                        ${
                          r.started_at !== null && r.finished_at !== null
                            ? formatSeconds((r.finished_at.getTime() - r.started_at.getTime()) / 1000)
                            : ''
                        }
                      </td>
                      <td><code>${r.worker_id ?? ''}</code></td>
                      <td>
                        ${r.errors.map((e) => html`<div><code>${e.code}</code> <span class="message">${e.message}</span></div>`)}
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>
          </div>`
    }

    <h2>Open errors</h2>
    ${
      errors.length === 0
        ? html`<p class="muted">No open errors.</p>`
        : html`<ul class="plain" data-open-errors="${errors.length}">
            ${errors.map(
              (e) =>
                html`<li>
                  <code>${e.code}</code> ${e.blocking ? html`<strong class="status-error">blocking</strong>` : ''}
                  ${e.scope}${e.activity_uid === null ? '' : html` <code>${e.activity_uid}</code>`}, ${e.count}×, last
                  ${time(e.last_at)}: <span class="message">${e.message}</span>
                </li>`,
            )}
          </ul>`
    }

    <h2>Admin actions on this user</h2>
    ${renderAuditTable(audit)}`;
  return adminPage({ ...input, title: `${user.email ?? user.id} · Admin`, tab: 'users', main });
}

function renderAuditTable(entries: AuditEntryView[]): SafeHtml {
  if (entries.length === 0) return html`<p class="muted">Nothing recorded.</p>`;
  return html`<div class="table-scroll">
    <table data-audit="${entries.length}">
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">Who</th>
          <th scope="col">Action</th>
          <th scope="col">User</th>
          <th scope="col">Details</th>
        </tr>
      </thead>
      <tbody>
        ${entries.map(
          (e) =>
            html`<tr data-audit-action="${e.action}">
              <td>${time(e.at)}</td>
              <td>${e.actor_email ?? e.actor_user_id ?? html`<span class="muted">system</span>`}</td>
              <td><code>${e.action}</code></td>
              <td>
                ${
                  e.target_user_id === null
                    ? ''
                    : html`<a href="/admin/users/${e.target_user_id}">${e.target_email ?? e.target_user_id}</a>`
                }
              </td>
              <td><code class="message">${JSON.stringify(e.details)}</code></td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

export function renderAuditLog(
  input: PageBase & { entries: AuditEntryView[]; action?: string; nextBefore?: string },
): string {
  const actions = ['admin.users.search', 'admin.user.view', 'admin.user.requeue', 'admin.user.unlock'];
  const main = html`<h1>Audit log</h1>
    <p class="actions">
      ${input.action === undefined ? html`<strong>All</strong>` : html`<a href="/admin/audit">All</a>`}
      ${actions.map((a) =>
        a === input.action ? html`<strong>${a}</strong>` : html`<a href="/admin/audit?action=${a}">${a}</a>`,
      )}
    </p>
    ${renderAuditTable(input.entries)}
    ${
      input.nextBefore === undefined
        ? ''
        : html`<p>
            <a
              href="/admin/audit?before=${input.nextBefore}${input.action === undefined ? '' : `&action=${input.action}`}"
              >Older entries</a
            >
          </p>`
    }`;
  return adminPage({ ...input, title: 'Audit log · Admin', tab: 'audit', main });
}
