import { formatDistance, formatHours } from '../activities/activity-format.util';
import { barChart } from '../activities/svg-chart.util';
import { html } from '../site/html.util';
import { layout } from '../site/layout.view';
import { type WeeklyStats } from './stats.util';

export const STATS_RANGES = [4, 12, 26, 52] as const;

export interface StatsPage {
  stats: WeeklyStats;
  weeks: number;
  csrfToken: string;
  isAdmin?: boolean;
}

/** "6 May" for a Monday key. */
function weekLabel(key: string): string {
  const d = new Date(`${key}T00:00:00Z`);
  return new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', day: 'numeric', month: 'short' }).format(d);
}

export function renderStats(page: StatsPage): string {
  const { stats } = page;
  const labels = stats.weeks.map(weekLabel);
  const main = html`<h1>Stats</h1>
    <nav class="range" aria-label="Period">
      ${STATS_RANGES.map((w) =>
        w === page.weeks
          ? html`<a href="/stats?weeks=${w}" aria-current="page">${w} weeks</a>`
          : html`<a href="/stats?weeks=${w}">${w} weeks</a>`,
      )}
    </nav>
    <p class="lead" data-stats-total>
      ${stats.totals.count} ${stats.totals.count === 1 ? 'activity' : 'activities'} ·
      ${formatDistance(stats.totals.distance)} · ${formatHours(stats.totals.duration)} in the last ${page.weeks} weeks.
    </p>
    ${
      stats.totals.count === 0
        ? html`<p class="empty">No activities in this period yet. They appear here after a sync.</p>`
        : html`<section aria-labelledby="weekly-title">
              <h2 id="weekly-title">Per week</h2>
              <div class="charts">
                ${barChart({
                  id: 'chart-week-distance',
                  title: 'Distance per week',
                  labels,
                  series: stats.series.map((s) => ({ name: s.name, values: s.distance.map((m) => m / 1000) })),
                  formatY: (km) => `${Math.round(km * 10) / 10} km`,
                })}
                ${barChart({
                  id: 'chart-week-time',
                  title: 'Time per week',
                  labels,
                  series: stats.series.map((s) => ({ name: s.name, values: s.duration.map((sec) => sec / 3600) })),
                  formatY: (h) => `${Math.round(h * 10) / 10} h`,
                })}
              </div>
            </section>
            <section aria-labelledby="type-title">
              <h2 id="type-title">Per type</h2>
              <div class="charts">
                ${barChart({
                  id: 'chart-type-time',
                  title: 'Time per type',
                  labels: stats.byType.map((t) => t.label),
                  series: [{ name: 'Time', values: stats.byType.map((t) => t.duration / 3600) }],
                  formatY: (h) => `${Math.round(h * 10) / 10} h`,
                })}
              </div>
              <div class="table-scroll">
                <table class="by-type">
                  <thead>
                    <tr>
                      <th scope="col">Type</th>
                      <th scope="col">Activities</th>
                      <th scope="col">Distance</th>
                      <th scope="col">Time</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${stats.byType.map(
                      (t) =>
                        html`<tr data-type="${t.type}">
                          <th scope="row">${t.label}</th>
                          <td>${t.count}</td>
                          <td>${formatDistance(t.distance)}</td>
                          <td>${formatHours(t.duration)}</td>
                        </tr>`,
                    )}
                  </tbody>
                </table>
              </div>
            </section>`
    }`;
  return layout({
    title: 'Stats',
    csrfToken: page.csrfToken,
    signedIn: true,
    isAdmin: page.isAdmin,
    section: 'stats',
    main,
  });
}
