/**
 * The site's only stylesheet, kept in code so the compiled app serves it without copying assets and works offline.
 * System fonts, no framework; readable at 390 px and up, visible focus, respects dark mode and reduced motion.
 */
export const SITE_CSS = `
:root {
  color-scheme: light dark;
  --bg: #f7f8fa; --fg: #15202b; --muted: #5b6875; --card: #fff; --line: #d8dee4;
  --accent: #0b63c5; --accent-fg: #fff; --danger: #b42318; --ok: #1a7f37; --warn: #9a6700;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  line-height: 1.5;
}
@media (prefers-color-scheme: dark) {
  :root { --bg: #0f141a; --fg: #e6edf3; --muted: #9aa7b3; --card: #161d25; --line: #2d3742;
    --accent: #4c9cf0; --accent-fg: #0f141a; --danger: #ff7b72; --ok: #56d364; --warn: #e3b341; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: var(--card); padding: .5rem; z-index: 1; }
.top { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; justify-content: space-between;
  padding: .75rem 1rem; border-bottom: 1px solid var(--line); background: var(--card); }
.top nav { display: flex; gap: 1rem; align-items: center; }
.brand { font-weight: 700; font-size: 1.25rem; text-decoration: none; color: var(--fg); }
main { max-width: 60rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: clamp(1.6rem, 5vw, 2.4rem); line-height: 1.2; margin: 1rem 0 .5rem; }
h2 { font-size: 1.3rem; margin: 1.5rem 0 .5rem; }
h3 { font-size: 1.1rem; margin: 0 0 .25rem; }
.card h2 { margin: 0 0 .25rem; font-size: 1.15rem; }
.lead { font-size: 1.1rem; max-width: 40rem; }
.muted { color: var(--muted); }
.cards { list-style: none; padding: 0; margin: 0; display: grid; gap: .75rem;
  grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr)); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: .5rem; padding: 1rem; min-width: 0; }
.account { overflow-wrap: anywhere; margin: 0 0 .5rem; }
.facts { display: grid; grid-template-columns: auto 1fr; gap: .1rem .75rem; margin: 0 0 .75rem; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; }
.button, button { display: inline-block; font: inherit; padding: .55rem 1rem; min-height: 44px; border-radius: .4rem;
  border: 1px solid var(--accent); background: var(--card); color: var(--accent); text-decoration: none;
  cursor: pointer; }
.button.primary { background: var(--accent); color: var(--accent-fg); }
button.danger { border-color: var(--danger); color: var(--danger); }
button.link { border: 0; background: none; padding: 0; min-height: 0; color: var(--accent); text-decoration: underline; }
form.inline { display: inline; margin: 0; }
.status { font-weight: 600; }
.status-ok { color: var(--ok); }
.status-needs_reauth, .status-disabled { color: var(--warn); }
.status-error { color: var(--danger); }
.notice { background: var(--card); border-left: 4px solid var(--accent); padding: .5rem .75rem; }
.steps li { margin: .25rem 0; }
.form-page { max-width: 28rem; }
.stack { display: grid; gap: .4rem; }
.stack label { font-weight: 600; margin-top: .5rem; }
.stack input { font: inherit; padding: .55rem .6rem; min-height: 44px; border: 1px solid var(--line);
  border-radius: .4rem; background: var(--card); color: var(--fg); width: 100%; }
.stack button { margin-top: .75rem; justify-self: start; }
button.primary { background: var(--accent); color: var(--accent-fg); }
.error { border-left: 4px solid var(--danger); padding: .5rem .75rem; background: var(--card); }
.foot { max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: var(--muted); font-size: .9rem; }
/* Dashboard and settings (H6) */
.sync-panel { margin: 0 0 1rem; }
.sync-panel progress { width: 100%; height: .75rem; margin: 0 0 .75rem; }
.problems .problem-item { border-left: 4px solid var(--danger); }
.problems { margin-bottom: 1rem; }
.problem-item p { margin: 0 0 .5rem; overflow-wrap: anywhere; }
.feed { list-style: none; padding: 0; margin: 0; display: grid; gap: .5rem; }
.feed-item { background: var(--card); border: 1px solid var(--line); border-radius: .5rem; padding: .6rem .8rem;
  overflow-wrap: anywhere; }
.feed-item .muted { display: block; font-size: .9rem; }
.presence { list-style: none; padding: 0; margin: .35rem 0 0; display: flex; flex-wrap: wrap; gap: .35rem; }
.chip { font-size: .85rem; border: 1px solid var(--line); border-radius: 1rem; padding: .05rem .55rem; }
.chip-present { border-color: var(--ok); color: var(--ok); }
.chip-pending { border-color: var(--warn); color: var(--warn); }
.chip-failed, .chip-missing { border-color: var(--danger); color: var(--danger); }
.settings-form fieldset, .stack fieldset { border: 1px solid var(--line); border-radius: .5rem; padding: .5rem .9rem .9rem;
  margin: .75rem 0 0; display: grid; gap: .4rem; min-width: 0; }
.settings-form legend { font-weight: 700; padding: 0 .25rem; }
.stack label.check { font-weight: 400; margin-top: .25rem; display: flex; gap: .5rem; align-items: flex-start; }
.stack label.check input { width: auto; min-height: 0; margin-top: .3rem; }
.stack select { font: inherit; padding: .55rem .6rem; min-height: 44px; border: 1px solid var(--line);
  border-radius: .4rem; background: var(--card); color: var(--fg); width: 100%; }
.field-error { color: var(--danger); font-size: .9rem; }
.danger-zone { border-top: 1px solid var(--line); margin-top: 2rem; }
button.danger { background: var(--card); }
section > .stack, .settings-form { max-width: 36rem; }
.stack + .stack { margin-top: 1.5rem; }
@media (prefers-reduced-motion: reduce) { * { transition: none !important; animation: none !important; } }
/* Admin pages (apps/web/src/admin) */
/* Administrators have one more navigation entry: let the header wrap instead of widening the page at 390 px. */
.top nav { flex-wrap: wrap; }
.admin-tabs { display: flex; flex-wrap: wrap; gap: .25rem 1rem; margin: .5rem 0; }
.admin-tabs [aria-current="page"] { font-weight: 700; text-decoration: none; color: var(--fg); }
.admin .table-scroll { overflow-x: auto; max-width: 100%; }
/* Wide tables scroll sideways inside their box on a phone instead of squeezing every column to a word. */
.admin .table-scroll table { min-width: 40rem; }
.admin td:last-child { min-width: 14rem; }
.admin h1 { overflow-wrap: anywhere; }
.admin table { border-collapse: collapse; width: 100%; font-size: .9rem; background: var(--card); }
.admin th, .admin td { text-align: left; vertical-align: top; padding: .35rem .5rem; border-bottom: 1px solid var(--line); }
.admin ul.plain { list-style: none; padding: 0; margin: 0; }
.admin ul.plain li { margin: .2rem 0; }
.admin .message, .admin code { overflow-wrap: anywhere; }
.admin .search { max-width: 32rem; }
.admin .chart { margin: 0; }
.admin .chart svg { width: 100%; height: auto; display: block; background: var(--card); border: 1px solid var(--line);
  border-radius: .4rem; }
.admin .chart .grid { stroke: var(--line); }
.admin .chart .axis { fill: var(--muted); font-size: 11px; }
.admin .chart polyline.p50 { stroke: var(--accent); }
.admin .chart polyline.p95 { stroke: var(--warn); }
.admin .chart circle.p50 { fill: var(--accent); }
.admin .chart circle.p95 { fill: var(--warn); }
.admin .key::before { content: ""; display: inline-block; width: 1rem; height: .2rem; margin-right: .3rem;
  vertical-align: middle; }
.admin .key.p50::before { background: var(--accent); }
.admin .key.p95::before { background: var(--warn); }
/* Activities, activity detail and stats (apps/web/src/activities, apps/web/src/stats). */
.filters { display: grid; gap: .5rem .75rem; grid-template-columns: repeat(auto-fill, minmax(10rem, 1fr));
  align-items: end; margin: 0 0 1rem; }
.filters label { display: grid; gap: .2rem; font-weight: 600; font-size: .9rem; }
.filters input, .filters select { font: inherit; font-weight: 400; padding: .45rem .5rem; min-height: 44px;
  border: 1px solid var(--line); border-radius: .4rem; background: var(--card); color: var(--fg); width: 100%; }
.filters .actions { grid-column: 1 / -1; }
ol.activities { list-style: none; padding: 0; margin: 0; display: grid; gap: .75rem; }
.activity h2 { margin: 0 0 .25rem; font-size: 1.15rem; overflow-wrap: anywhere; }
.meta { color: var(--muted); margin: 0 0 .5rem; }
ul.presence { list-style: none; padding: 0; margin: 0 0 .5rem; display: grid; gap: .35rem; }
ul.presence li { display: grid; gap: 0; border-left: 4px solid var(--line); padding-left: .5rem; }
ul.presence li[data-state="present"] { border-color: var(--ok); }
ul.presence li[data-state="missing"] { border-color: var(--danger); }
ul.presence li[data-state="pending"] { border-color: var(--warn); }
.state { font-weight: 600; }
.state-present { color: var(--ok); }
.state-missing { color: var(--danger); }
.state-pending { color: var(--warn); }
.state-excluded { color: var(--muted); }
.why { font-size: .9rem; color: var(--muted); overflow-wrap: anywhere; }
.downloads { display: flex; flex-wrap: wrap; gap: .25rem .75rem; align-items: center; margin: 0 0 .5rem; }
.downloads a { display: inline-block; padding: .6rem .1rem; }
.activity-actions details summary { cursor: pointer; min-height: 44px; display: flex; align-items: center;
  color: var(--accent); }
.action-form { margin: .5rem 0; }
.action-form p { margin: 0 0 .35rem; font-size: .9rem; }
.pager { display: flex; justify-content: space-between; gap: 1rem; margin: 1rem 0; }
.pager a { padding: .6rem 0; }
.empty { color: var(--muted); }
.map { height: 22rem; max-height: 60vh; border: 1px solid var(--line); border-radius: .5rem; background: var(--card);
  overflow: hidden; display: flex; align-items: center; justify-content: center; }
.map.map-live { display: block; }
.track-outline { width: 100%; height: 100%; padding: .5rem; }
.track-outline path { stroke: var(--accent); stroke-width: 2; vector-effect: non-scaling-stroke; }
.charts { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fill, minmax(min(100%, 26rem), 1fr)); }
[data-chart] { margin: 0; }
[data-chart] svg { width: 100%; height: auto; display: block; background: var(--card); border: 1px solid var(--line);
  border-radius: .4rem; }
[data-chart] figcaption { font-size: .85rem; color: var(--muted); margin-top: .25rem; }
[data-chart] .grid { stroke: var(--line); stroke-width: 1; }
[data-chart] .tick { fill: var(--muted); font-size: 10px; }
[data-chart] .line { stroke: var(--accent); stroke-width: 1.5; vector-effect: non-scaling-stroke; }
[data-chart] .area { fill: var(--accent); opacity: .15; }
[data-chart] .tone-hr .line { stroke: #d1242f; }
[data-chart] .tone-power .line { stroke: #8250df; }
[data-chart] .tone-speed .line { stroke: #1a7f37; }
[data-chart] .s0 { fill: #0b63c5; background: #0b63c5; }
[data-chart] .s1 { fill: #d97706; background: #d97706; }
[data-chart] .s2 { fill: #1a7f37; background: #1a7f37; }
[data-chart] .s3 { fill: #8250df; background: #8250df; }
[data-chart] .s4 { fill: #d1242f; background: #d1242f; }
[data-chart] .s5 { fill: #6e7781; background: #6e7781; }
.legend { list-style: none; padding: 0; margin: .25rem 0 0; display: flex; flex-wrap: wrap; gap: .25rem .75rem; }
.swatch { display: inline-block; width: .8rem; height: .8rem; border-radius: .15rem; margin-right: .3rem;
  vertical-align: middle; }
.table-scroll { overflow-x: auto; }
table.laps, table.by-type { border-collapse: collapse; width: 100%; background: var(--card); font-size: .95rem; }
table.laps th, table.laps td, table.by-type th, table.by-type td { padding: .35rem .5rem; text-align: right;
  border-bottom: 1px solid var(--line); white-space: nowrap; }
table.laps th:first-child, table.by-type th:first-child { text-align: left; }
.range { display: flex; flex-wrap: wrap; gap: .25rem 1rem; margin: 0 0 .5rem; }
.range a { padding: .5rem 0; }
.range a[aria-current="page"] { font-weight: 700; color: var(--fg); text-decoration: none; }
`;
