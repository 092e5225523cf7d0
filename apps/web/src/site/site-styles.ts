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
@media (prefers-reduced-motion: reduce) { * { transition: none !important; animation: none !important; } }
`;
