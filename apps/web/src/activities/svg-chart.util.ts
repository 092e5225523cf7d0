import { type SafeHtml, html } from '../site/html.util';

/*
 * Charts are server-rendered SVG rather than a client chart library: they show without JavaScript, print, scale to a
 * 390 px phone, cost no bundle, satisfy the 'self'-only CSP trivially (presentation attributes, classes styled by
 * site.css), and carry a <title>/<desc> plus the numbers in text so screen readers get the content.
 */

export interface Point {
  x: number;
  y: number;
}

export interface LineChartInput {
  /** Unique on the page (ids for aria). */
  id: string;
  title: string;
  points: readonly Point[];
  formatX: (x: number) => string;
  formatY: (y: number) => string;
  /** Axis tick labels; short (no unit, the title names it) so they fit a phone. Defaults to formatY. */
  formatTick?: (y: number) => string;
  /** A CSS class for the line colour (`hr`, `power`, …). */
  tone: string;
  /** Fill the area under the line (elevation). */
  area?: boolean;
}

const W = 360;
const H = 170;
const LEFT = 40;
const RIGHT = 8;
const TOP = 10;
const BOTTOM = 24;
const MAX_POINTS = 360;

function round(n: number): string {
  return String(Math.round(n * 10) / 10);
}

/** At most `max` points: each bucket becomes its mean, so spikes are tamed but the shape stays. */
export function downsample(points: readonly Point[], max = MAX_POINTS): Point[] {
  if (points.length <= max) return [...points];
  const out: Point[] = [];
  const size = points.length / max;
  for (let i = 0; i < max; i++) {
    const bucket = points.slice(Math.floor(i * size), Math.max(Math.floor((i + 1) * size), Math.floor(i * size) + 1));
    const x = bucket.reduce((s, p) => s + p.x, 0) / bucket.length;
    const y = bucket.reduce((s, p) => s + p.y, 0) / bucket.length;
    out.push({ x, y });
  }
  return out;
}

/** Round tick values spanning [min, max]: 1, 2 or 5 times a power of ten apart. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (max === min) return [min];
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * magnitude >= raw) ?? 10) * magnitude;
  const ticks: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** A line chart of y over x with labelled axes; empty input renders nothing. */
export function lineChart(input: LineChartInput): SafeHtml {
  const pts = downsample(input.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)));
  if (pts.length < 2) return html``;
  const xs = pts.map((p) => p.x);
  const ys = pts.map((p) => p.y);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  const yMin = Math.min(...ys);
  const yMax = Math.max(...ys);
  const pad = (yMax - yMin) * 0.05 || 1;
  const lo = yMin - pad;
  const hi = yMax + pad;
  const sx = (x: number) => LEFT + ((x - x0) / (x1 - x0 || 1)) * (W - LEFT - RIGHT);
  const sy = (y: number) => TOP + (1 - (y - lo) / (hi - lo)) * (H - TOP - BOTTOM);
  const line = pts.map((p, i) => `${i === 0 ? 'M' : 'L'}${round(sx(p.x))},${round(sy(p.y))}`).join('');
  const areaPath = `${line}L${round(sx(x1))},${H - BOTTOM}L${round(sx(x0))},${H - BOTTOM}Z`;
  const avg = ys.reduce((s, y) => s + y, 0) / ys.length;
  const tick = input.formatTick ?? input.formatY;
  const summary = `From ${input.formatY(yMin)} to ${input.formatY(yMax)}, average ${input.formatY(avg)}, over ${input.formatX(x0)} to ${input.formatX(x1)}.`;
  return html`<figure class="chart" data-chart="${input.id}">
    <svg viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="${input.id}-t ${input.id}-d" class="tone-${input.tone}">
      <title id="${input.id}-t">${input.title}</title>
      <desc id="${input.id}-d">${summary}</desc>
      ${niceTicks(lo, hi).map(
        (t) =>
          html`<line class="grid" x1="${LEFT}" x2="${W - RIGHT}" y1="${round(sy(t))}" y2="${round(sy(t))}" />
            <text class="tick" x="${LEFT - 4}" y="${round(sy(t) + 3)}" text-anchor="end">${tick(t)}</text>`,
      )}
      ${niceTicks(x0, x1).map(
        (t) =>
          html`<text class="tick" x="${round(sx(t))}" y="${H - 8}" text-anchor="middle">${input.formatX(t)}</text>`,
      )}
      ${input.area === true ? html`<path class="area" d="${areaPath}" />` : ''}
      <path class="line" d="${line}" fill="none" />
    </svg>
    <figcaption>${input.title}: ${summary}</figcaption>
  </figure>`;
}

export interface BarSeries {
  name: string;
  values: readonly number[];
}

export interface BarChartInput {
  id: string;
  title: string;
  /** One label per bar. */
  labels: readonly string[];
  /** Stacked bottom to top, in this order. */
  series: readonly BarSeries[];
  formatY: (y: number) => string;
}

/** Stacked bars (one per label), a legend, and the totals in the description. */
export function barChart(input: BarChartInput): SafeHtml {
  const n = input.labels.length;
  if (n === 0 || input.series.length === 0) return html``;
  const totals = input.labels.map((_, i) => input.series.reduce((s, series) => s + (series.values[i] ?? 0), 0));
  const max = Math.max(...totals);
  const ticks = niceTicks(0, max > 0 ? max : 1);
  const top = Math.max(ticks[ticks.length - 1] ?? 1, max, 1);
  const slot = (W - LEFT - RIGHT) / n;
  const barW = Math.max(2, slot * 0.7);
  const sy = (y: number) => TOP + (1 - y / top) * (H - TOP - BOTTOM);
  const labelEvery = Math.ceil(n / 6);
  const bars = input.labels.map((label, i) => {
    let base = 0;
    return input.series.map((series, k) => {
      const v = series.values[i] ?? 0;
      if (v <= 0) return html``;
      const y0 = sy(base);
      base += v;
      const y1 = sy(base);
      return html`<rect
        class="s${k % 6}"
        x="${round(LEFT + i * slot + (slot - barW) / 2)}"
        y="${round(y1)}"
        width="${round(barW)}"
        height="${round(Math.max(0.5, y0 - y1))}"
        ><title>${label} · ${series.name}: ${input.formatY(v)}</title></rect
      >`;
    });
  });
  const best = totals.indexOf(max);
  const desc = `${n} bars; the largest is ${input.labels[best] ?? ''} with ${input.formatY(max)}.`;
  return html`<figure class="chart" data-chart="${input.id}">
    <svg viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="${input.id}-t ${input.id}-d">
      <title id="${input.id}-t">${input.title}</title>
      <desc id="${input.id}-d">${desc}</desc>
      ${ticks.map(
        (t) =>
          html`<line class="grid" x1="${LEFT}" x2="${W - RIGHT}" y1="${round(sy(t))}" y2="${round(sy(t))}" />
            <text class="tick" x="${LEFT - 4}" y="${round(sy(t) + 3)}" text-anchor="end">${input.formatY(t)}</text>`,
      )}
      ${bars}
      ${input.labels.map((label, i) =>
        i % labelEvery === 0
          ? html`<text class="tick" x="${round(LEFT + i * slot + slot / 2)}" y="${H - 8}" text-anchor="middle"
              >${label}</text
            >`
          : '',
      )}
    </svg>
    <figcaption>
      ${input.title}
      <ul class="legend">
        ${input.series.map((s, k) => html`<li><span class="swatch s${k % 6}" aria-hidden="true"></span>${s.name}</li>`)}
      </ul>
    </figcaption>
  </figure>`;
}

/**
 * The track as an SVG outline (equirectangular, longitude scaled by the cosine of the mid latitude): what the map
 * area shows before, or without, the map script.
 */
export function trackOutline(track: readonly (readonly [number, number])[]): SafeHtml {
  if (track.length < 2) return html``;
  const lats = track.map((p) => p[0]);
  const lons = track.map((p) => p[1]);
  const minLat = Math.min(...lats);
  const maxLat = Math.max(...lats);
  const minLon = Math.min(...lons);
  const maxLon = Math.max(...lons);
  const k = Math.cos((((minLat + maxLat) / 2) * Math.PI) / 180);
  const w = (maxLon - minLon) * k || 1e-6;
  const h = maxLat - minLat || 1e-6;
  const size = 300;
  const scale = (size - 20) / Math.max(w, h);
  const d = track
    .map(
      ([lat, lon], i) =>
        `${i === 0 ? 'M' : 'L'}${round(10 + (lon - minLon) * k * scale)},${round(10 + (maxLat - lat) * scale)}`,
    )
    .join('');
  return html`<svg
    class="track-outline"
    viewBox="0 0 ${round(w * scale + 20)} ${round(h * scale + 20)}"
    role="img"
    aria-label="Outline of the track"
  >
    <path d="${d}" fill="none" />
  </svg>`;
}
