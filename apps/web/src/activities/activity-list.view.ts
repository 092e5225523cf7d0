import { type ActivityListItem, type ActivityPresenceView } from '@tributary/db';
import { type SafeHtml, html } from '../site/html.util';
import { layout } from '../site/layout.view';
import { type FilterForm } from './activity-filter.util';
import { formatDistance, formatDuration, formatStart, typeLabel } from './activity-format.util';
import { type PresenceText, describePresence, undecidedPresence } from './presence-reason.util';

/** A connection of the user, as the list shows it. */
export interface ListConnection {
  id: string;
  service: string;
  name: string;
}

export interface ActivityListPage {
  items: ActivityListItem[];
  connections: ListConnection[];
  form: FilterForm;
  problems: string[];
  /** Every type the user has, for the filter. */
  types: string[];
  /** Services a filter can name: the user's connected ones. */
  services: { id: string; name: string }[];
  /** Link to the next page, when there is one. */
  nextHref?: string;
  /** Link back to the first page, when this is not it. */
  firstHref?: string;
  csrfToken: string;
  isAdmin?: boolean;
  notice?: string;
}

export const FORGET_EXPLANATION =
  'Forget deletes what this hub knows about the activity: its record, its state at each service, the stored copy of ' +
  'its file, and its exclusions and errors. Nothing is deleted at any service. The next sync finds the activity again ' +
  'and treats it as new; services that already have it are not sent another copy.';

export const RESYNC_EXPLANATION =
  'Resync clears the failures and exclusions of this activity and queues a full sync, so every service where it is ' +
  'missing is tried again.';

export const DOWNLOAD_FORMATS = [
  { id: 'original', label: 'Original' },
  { id: 'fit', label: 'FIT' },
  { id: 'tcx', label: 'TCX' },
  { id: 'gpx', label: 'GPX' },
] as const;

const STATUS_LABEL: Readonly<Record<FilterForm['status'], string>> = {
  all: 'All',
  missing: 'Missing somewhere',
  synced: 'Synced',
};

/** Each connection's state for the activity; connections the hub has no state for yet read "Not checked". */
export function presenceCells(
  presence: readonly ActivityPresenceView[],
  connections: readonly ListConnection[],
): { connection: ListConnection; text: PresenceText }[] {
  return connections.map((connection) => {
    const row = presence.find((p) => p.connectionId === connection.id);
    return { connection, text: row === undefined ? undecidedPresence() : describePresence(row) };
  });
}

export function presenceList(
  presence: readonly ActivityPresenceView[],
  connections: readonly ListConnection[],
): SafeHtml {
  return html`<ul class="presence">
    ${presenceCells(presence, connections).map(
      ({ connection, text }) =>
        html`<li data-presence="${connection.service}" data-state="${text.state}">
          <span class="state state-${text.state}">${connection.name}: ${text.label}</span>
          <span class="why">${text.why}</span>
        </li>`,
    )}
  </ul>`;
}

export function activityActions(id: string, title: string, csrfToken: string, back: string): SafeHtml {
  return html`<div class="activity-actions">
    <p class="downloads">
      Download:
      ${DOWNLOAD_FORMATS.map(
        (f) =>
          html`<a href="/activities/${id}/download?format=${f.id}" download aria-label="Download ${title} as ${f.label}"
            >${f.label}</a
          >`,
      )}
    </p>
    <details>
      <summary>Resync or forget</summary>
      <form method="post" action="/activities/${id}/resync" class="action-form">
        <input type="hidden" name="_csrf" value="${csrfToken}" />
        <input type="hidden" name="back" value="${back}" />
        <p class="muted">${RESYNC_EXPLANATION}</p>
        <button type="submit">Resync</button>
      </form>
      <form method="post" action="/activities/${id}/forget" class="action-form">
        <input type="hidden" name="_csrf" value="${csrfToken}" />
        <p class="muted">${FORGET_EXPLANATION}</p>
        <button type="submit" class="danger">Forget</button>
      </form>
    </details>
  </div>`;
}

function title(item: ActivityListItem): string {
  return item.record.name ?? typeLabel(item.record.type);
}

function duration(item: ActivityListItem): number | null {
  const { start_at, end_at } = item.record;
  return end_at === null ? null : (end_at.getTime() - start_at.getTime()) / 1000;
}

function filterForm(page: ActivityListPage): SafeHtml {
  const { form } = page;
  return html`<form method="get" action="/activities" class="filters" aria-label="Filter activities">
    <label>From <input type="date" name="from" value="${form.from}" /></label>
    <label>To <input type="date" name="to" value="${form.to}" /></label>
    <label
      >Type
      <select name="type">
        <option value="">Any type</option>
        ${page.types.map(
          (t) => html`<option value="${t}" ${t === form.type ? html`selected` : ''}>${typeLabel(t)}</option>`,
        )}
      </select>
    </label>
    <label
      >Service
      <select name="service">
        <option value="">Any service</option>
        ${page.services.map(
          (s) => html`<option value="${s.id}" ${s.id === form.service ? html`selected` : ''}>${s.name}</option>`,
        )}
      </select>
    </label>
    <label
      >Status
      <select name="status">
        ${(Object.keys(STATUS_LABEL) as FilterForm['status'][]).map(
          (s) => html`<option value="${s}" ${s === form.status ? html`selected` : ''}>${STATUS_LABEL[s]}</option>`,
        )}
      </select>
    </label>
    <div class="actions">
      <button type="submit" class="primary">Filter</button>
      <a class="button" href="/activities">Clear</a>
    </div>
  </form>`;
}

export function renderActivityList(page: ActivityListPage): string {
  const back = '/activities';
  const main = html`<h1>Activities</h1>
    ${page.notice === undefined ? '' : html`<p class="notice" role="status">${page.notice}</p>`}
    ${page.problems.map((p) => html`<p class="error" role="alert">${p}</p>`)} ${filterForm(page)}
    ${
      page.items.length === 0
        ? html`<p class="empty">
            ${
              page.firstHref === undefined
                ? 'No activities match. Activities appear here after your first sync.'
                : 'No more activities.'
            }
          </p>`
        : html`<ol class="activities">
            ${page.items.map(
              (item) =>
                html`<li class="card activity" data-activity="${item.record.id}">
                  <h2><a href="/activities/${item.record.id}">${title(item)}</a></h2>
                  <p class="meta">
                    <time datetime="${item.record.start_at.toISOString()}"
                      >${formatStart(item.record.start_at, item.record.timezone)}</time
                    >
                    · ${typeLabel(item.record.type)} · ${formatDistance(item.record.distance)} ·
                    ${formatDuration(duration(item))}
                  </p>
                  ${presenceList(item.presence, page.connections)}
                  ${activityActions(item.record.id, title(item), page.csrfToken, back)}
                </li>`,
            )}
          </ol>`
    }
    <nav class="pager" aria-label="Pages">
      ${page.firstHref === undefined ? '' : html`<a href="${page.firstHref}">Newest</a>`}
      ${page.nextHref === undefined ? '' : html`<a href="${page.nextHref}" rel="next">Older activities</a>`}
    </nav>`;
  return layout({
    title: 'Activities',
    csrfToken: page.csrfToken,
    signedIn: true,
    isAdmin: page.isAdmin,
    section: 'activities',
    main,
  });
}
