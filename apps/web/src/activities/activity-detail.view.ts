import { type Activity, type ActivityStats, type Sample, familyOf, isActivityType } from '@tributary/activity';
import { type ActivityListItem } from '@tributary/db';
import { type SafeHtml, html } from '../site/html.util';
import { layout } from '../site/layout.view';
import { activityActions, type ListConnection, presenceList } from './activity-list.view';
import {
  formatDistance,
  formatDuration,
  formatPace,
  formatSpeed,
  formatStart,
  typeLabel,
} from './activity-format.util';
import { type Point, lineChart, trackOutline } from './svg-chart.util';

export interface ActivityDetailPage {
  item: ActivityListItem;
  connections: ListConnection[];
  /** The decoded file, when it could be had. */
  activity?: Activity;
  /** Why the file could not be had (shown instead of map and charts). */
  fileProblem?: string;
  /** Optional tile layer (MAP_TILE_URL); without it the track is drawn on a blank map. */
  tiles?: { url: string; attribution?: string };
  csrfToken: string;
  isAdmin?: boolean;
  notice?: string;
}

/** Track points sent to the map script: enough for a smooth line, small enough for a data attribute. */
const MAX_TRACK_POINTS = 2000;

/** [lat, lon] pairs of the samples that have a position, thinned evenly to at most `max`, 5 decimals (~1 m). */
export function trackOf(samples: readonly Sample[], max = MAX_TRACK_POINTS): [number, number][] {
  const located = samples.filter(
    (s): s is Sample & { lat: number; lon: number } =>
      s.lat !== undefined && s.lon !== undefined && Number.isFinite(s.lat) && Number.isFinite(s.lon),
  );
  const at = (s: { lat: number; lon: number }): [number, number] => [
    Math.round(s.lat * 1e5) / 1e5,
    Math.round(s.lon * 1e5) / 1e5,
  ];
  if (located.length <= max) return located.map(at);
  // Evenly spaced picks, the last one always the finish.
  const out: [number, number][] = [];
  for (let k = 0; k < max - 1; k++) out.push(at(located[Math.floor((k * located.length) / (max - 1))]!));
  out.push(at(located[located.length - 1]!));
  return out;
}

interface Axis {
  label: string;
  of: (s: Sample) => number | undefined;
  format: (x: number) => string;
}

/** Charts run over distance when the file has it (where on the route), else over elapsed time. */
function axisFor(activity: Activity): Axis {
  const withDistance = activity.samples.filter((s) => s.distance !== undefined).length;
  if (withDistance > activity.samples.length / 2) {
    return {
      label: 'distance',
      of: (s) => (s.distance === undefined ? undefined : s.distance / 1000),
      format: (km) => `${Math.round(km * 10) / 10} km`,
    };
  }
  const t0 = activity.samples[0]?.time ?? activity.start;
  return {
    label: 'time',
    of: (s) => (s.time - t0) / 1000,
    format: (sec) => formatDuration(sec),
  };
}

function series(activity: Activity, axis: Axis, value: (s: Sample) => number | undefined): Point[] {
  const out: Point[] = [];
  for (const s of activity.samples) {
    const x = axis.of(s);
    const y = value(s);
    if (x !== undefined && y !== undefined && Number.isFinite(y)) out.push({ x, y });
  }
  return out;
}

function isOnFoot(type: string): boolean {
  return isActivityType(type) && familyOf(type) === 'on_foot';
}

export function activityCharts(activity: Activity): SafeHtml[] {
  const axis = axisFor(activity);
  const charts = [
    lineChart({
      id: 'chart-elevation',
      title: `Elevation (m) over ${axis.label}`,
      points: series(activity, axis, (s) => s.altitude),
      formatX: axis.format,
      formatY: (m) => `${Math.round(m)} m`,
      formatTick: (m) => String(Math.round(m)),
      tone: 'elevation',
      area: true,
    }),
    lineChart({
      id: 'chart-hr',
      title: `Heart rate (bpm) over ${axis.label}`,
      points: series(activity, axis, (s) => s.heartRate),
      formatX: axis.format,
      formatY: (bpm) => `${Math.round(bpm)} bpm`,
      formatTick: (bpm) => String(Math.round(bpm)),
      tone: 'hr',
    }),
    lineChart({
      id: 'chart-power',
      title: `Power (W) over ${axis.label}`,
      points: series(activity, axis, (s) => s.power),
      formatX: axis.format,
      formatY: (w) => `${Math.round(w)} W`,
      formatTick: (w) => String(Math.round(w)),
      tone: 'power',
    }),
    // Speed, not pace, even on foot: a stop is a pace near infinity and would flatten the rest of the chart.
    lineChart({
      id: 'chart-speed',
      title: `Speed (km/h) over ${axis.label}`,
      points: series(activity, axis, (s) => (s.speed === undefined ? undefined : s.speed * 3.6)),
      formatX: axis.format,
      formatY: (kmh) => `${Math.round(kmh * 10) / 10} km/h`,
      formatTick: (kmh) => String(Math.round(kmh * 10) / 10),
      tone: 'speed',
    }),
  ];
  return charts.filter((c) => c.value !== '');
}

function statRows(stats: ActivityStats, type: string): [string, string][] {
  const rows: [string, string][] = [];
  const add = (label: string, value: string | undefined) => {
    if (value !== undefined && value !== '–') rows.push([label, value]);
  };
  add('Distance', stats.distance === undefined ? undefined : formatDistance(stats.distance));
  add('Elapsed time', stats.elapsedTime === undefined ? undefined : formatDuration(stats.elapsedTime));
  add('Moving time', stats.movingTime === undefined ? undefined : formatDuration(stats.movingTime));
  const speed = stats.speed?.avg;
  add(isOnFoot(type) ? 'Average pace' : 'Average speed', isOnFoot(type) ? formatPace(speed) : formatSpeed(speed));
  if (stats.speed?.max !== undefined) add('Top speed', formatSpeed(stats.speed.max));
  if (stats.elevation?.gain !== undefined) add('Elevation gain', `${Math.round(stats.elevation.gain)} m`);
  if (stats.heartRate?.avg !== undefined) add('Average heart rate', `${Math.round(stats.heartRate.avg)} bpm`);
  if (stats.heartRate?.max !== undefined) add('Max heart rate', `${Math.round(stats.heartRate.max)} bpm`);
  if (stats.power?.avg !== undefined) add('Average power', `${Math.round(stats.power.avg)} W`);
  if (stats.cadence?.avg !== undefined) add('Average cadence', `${Math.round(stats.cadence.avg)} rpm`);
  if (stats.energy !== undefined) add('Energy', `${Math.round(stats.energy)} kcal`);
  return rows;
}

/** Stats from the record alone, for when the file cannot be read. */
function recordStats(item: ActivityListItem): ActivityStats {
  const { distance, start_at, end_at } = item.record;
  const stats: ActivityStats = {};
  if (distance !== null) stats.distance = distance;
  if (end_at !== null) stats.elapsedTime = (end_at.getTime() - start_at.getTime()) / 1000;
  return stats;
}

function lapsTable(activity: Activity): SafeHtml {
  if (activity.laps.length < 2) return html``;
  const onFoot = isOnFoot(activity.type);
  return html`<section aria-labelledby="laps-title">
    <h2 id="laps-title">Laps</h2>
    <div class="table-scroll">
      <table class="laps">
        <thead>
          <tr>
            <th scope="col">Lap</th>
            <th scope="col">Time</th>
            <th scope="col">Distance</th>
            <th scope="col">${onFoot ? 'Pace' : 'Speed'}</th>
            <th scope="col">Heart rate</th>
            <th scope="col">Power</th>
          </tr>
        </thead>
        <tbody>
          ${activity.laps.map((lap, i) => {
            const time = lap.stats.timerTime ?? lap.stats.elapsedTime ?? (lap.end - lap.start) / 1000;
            const speed =
              lap.stats.speed?.avg ??
              (lap.stats.distance !== undefined && time > 0 ? lap.stats.distance / time : undefined);
            return html`<tr>
              <th scope="row">${i + 1}</th>
              <td>${formatDuration(time)}</td>
              <td>${formatDistance(lap.stats.distance)}</td>
              <td>${onFoot ? formatPace(speed) : formatSpeed(speed)}</td>
              <td>${lap.stats.heartRate?.avg === undefined ? '–' : `${Math.round(lap.stats.heartRate.avg)} bpm`}</td>
              <td>${lap.stats.power?.avg === undefined ? '–' : `${Math.round(lap.stats.power.avg)} W`}</td>
            </tr>`;
          })}
        </tbody>
      </table>
    </div>
  </section>`;
}

function mapSection(activity: Activity, tiles: ActivityDetailPage['tiles']): SafeHtml {
  const track = trackOf(activity.samples);
  if (track.length < 2) return html`<p class="muted">This activity has no GPS track.</p>`;
  return html`<section aria-labelledby="map-title">
    <h2 id="map-title">Map</h2>
    <div
      id="activity-map"
      class="map"
      data-track="${JSON.stringify(track)}"
      data-tile-url="${tiles?.url ?? ''}"
      data-tile-attribution="${tiles?.attribution ?? ''}"
    >
      ${trackOutline(track)}
    </div>
  </section>`;
}

export function renderActivityDetail(page: ActivityDetailPage): string {
  const { item, activity } = page;
  const title = item.record.name ?? typeLabel(item.record.type);
  const stats = activity === undefined ? recordStats(item) : { ...recordStats(item), ...activity.stats };
  const rows = statRows(stats, item.record.type);
  const charts = activity === undefined ? [] : activityCharts(activity);
  const main = html`<p><a href="/activities">← All activities</a></p>
    <h1>${title}</h1>
    ${page.notice === undefined ? '' : html`<p class="notice" role="status">${page.notice}</p>`}
    <p class="meta" data-activity="${item.record.id}">
      <time datetime="${item.record.start_at.toISOString()}"
        >${formatStart(item.record.start_at, item.record.timezone)}</time
      >
      · ${typeLabel(item.record.type)}
    </p>
    ${page.fileProblem === undefined ? '' : html`<p class="error" role="alert">${page.fileProblem}</p>`}
    ${activity?.partial === true ? html`<p class="notice">The file is damaged; what could be read is shown.</p>` : ''}
    <section aria-labelledby="stats-title">
      <h2 id="stats-title">Stats</h2>
      ${
        rows.length === 0
          ? html`<p class="muted">No statistics are known for this activity.</p>`
          : html`<dl class="facts stats">
              ${rows.map(
                ([k, v]) =>
                  html`<dt>${k}</dt>
                    <dd>${v}</dd>`,
              )}
            </dl>`
      }
    </section>
    ${activity === undefined ? '' : mapSection(activity, page.tiles)}
    ${
      charts.length === 0
        ? ''
        : html`<section aria-labelledby="charts-title">
            <h2 id="charts-title">Charts</h2>
            <div class="charts">${charts}</div>
          </section>`
    }
    ${activity === undefined ? '' : lapsTable(activity)}
    <section aria-labelledby="where-title">
      <h2 id="where-title">Where it is</h2>
      ${presenceList(item.presence, page.connections)}
    </section>
    <section aria-labelledby="actions-title">
      <h2 id="actions-title">Actions</h2>
      ${activityActions(item.record.id, title, page.csrfToken, `/activities/${item.record.id}`)}
    </section>`;
  const hasMap = activity !== undefined && trackOf(activity.samples, 2).length >= 2;
  return layout({
    title,
    csrfToken: page.csrfToken,
    signedIn: true,
    isAdmin: page.isAdmin,
    section: 'activities',
    styles: hasMap ? ['/assets/vendor/leaflet/leaflet.css'] : [],
    scripts: hasMap ? ['/assets/vendor/leaflet/leaflet.js', '/assets/activity-map.js'] : [],
    main,
  });
}
