import { type SyncDurationBucket } from '@tributary/db';
import { type SafeHtml, html } from '../site/html.util';

const WIDTH = 640;
const HEIGHT = 220;
const PAD = { left: 72, right: 12, top: 12, bottom: 28 };

/** "42 s", "3.5 min", "1.2 h": the axis and table unit that keeps numbers short. */
export function formatSeconds(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function point(x: number, y: number): string {
  return `${x.toFixed(1)},${y.toFixed(1)}`;
}

/**
 * Sync duration percentiles as an SVG line chart, drawn on the server (no script, no inline style: colours come from
 * classes in the site stylesheet, so the strict CSP holds). The same numbers follow in a table for screen readers and
 * for copying.
 */
export function renderDurationChart(input: { buckets: SyncDurationBucket[]; from: Date; to: Date }): SafeHtml {
  const { buckets, from, to } = input;
  if (buckets.length === 0) {
    return html`<p class="muted" data-duration-chart="empty">No sync finished in this window.</p>`;
  }
  const t0 = from.getTime();
  const span = Math.max(1, to.getTime() - t0);
  const maxY = Math.max(1, ...buckets.map((b) => b.p95)) * 1.1;
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (at: Date): number => PAD.left + ((at.getTime() - t0) / span) * plotW;
  const y = (seconds: number): number => PAD.top + plotH - (seconds / maxY) * plotH;
  const line = (pick: (b: SyncDurationBucket) => number): string =>
    buckets.map((b) => point(x(b.at), y(pick(b)))).join(' ');
  const ticks = [0, 0.5, 1].map((f) => maxY * f);
  const dots = (pick: (b: SyncDurationBucket) => number, cls: string): SafeHtml[] =>
    buckets.map(
      (b) => html`<circle class="${cls}" cx="${x(b.at).toFixed(1)}" cy="${y(pick(b)).toFixed(1)}" r="2.5" />`,
    );
  return html`<figure class="chart" data-duration-chart="${buckets.length}">
      <svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-labelledby="duration-chart-title">
        <title id="duration-chart-title">
          Sync duration, median and 95th percentile, ${from.toISOString()} to ${to.toISOString()}
        </title>
        ${ticks.map(
          (v) =>
            html`<line
                class="grid"
                x1="${PAD.left}"
                x2="${WIDTH - PAD.right}"
                y1="${y(v).toFixed(1)}"
                y2="${y(v).toFixed(1)}"
              />
              <text class="axis" x="${PAD.left - 4}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end"
                >${formatSeconds(v)}</text
              >`,
        )}
        <text class="axis" x="${PAD.left}" y="${HEIGHT - 8}">${from.toISOString().slice(0, 16).replace('T', ' ')}</text>
        <text class="axis" x="${WIDTH - PAD.right}" y="${HEIGHT - 8}" text-anchor="end">
          ${to.toISOString().slice(0, 16).replace('T', ' ')} UTC
        </text>
        <polyline class="p95" fill="none" stroke-width="2" points="${line((b) => b.p95)}" />
        <polyline class="p50" fill="none" stroke-width="2" points="${line((b) => b.p50)}" />
        ${dots((b) => b.p95, 'p95')} ${dots((b) => b.p50, 'p50')}
      </svg>
      <figcaption><span class="key p50">median (p50)</span> <span class="key p95">95th percentile</span></figcaption>
    </figure>
    <details>
      <summary>Numbers</summary>
      <div class="table-scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">From (UTC)</th>
              <th scope="col">Runs</th>
              <th scope="col">Failed</th>
              <th scope="col">p50</th>
              <th scope="col">p95</th>
            </tr>
          </thead>
          <tbody>
            ${buckets.map(
              (b) =>
                html`<tr>
                  <td>${b.at.toISOString().slice(0, 16).replace('T', ' ')}</td>
                  <td>${b.runs}</td>
                  <td>${b.failed}</td>
                  <td>${formatSeconds(b.p50)}</td>
                  <td>${formatSeconds(b.p95)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
    </details>`;
}
