/**
 * The activity map's browser script, served as /assets/activity-map.js (same origin: the CSP allows only 'self').
 * Kept as source text because it runs in the browser, not in Node; it is plain ES2017 so every browser the site
 * supports runs it untranspiled. It reads the track from the map element's data attribute (no inline script), draws
 * it with Leaflet's SVG renderer and fits the view to it. With no tile URL configured there is no tile layer at all,
 * so the hub never contacts a third party and the track still shows on a blank background.
 */
export const ACTIVITY_MAP_JS = `'use strict';
(function () {
  function start() {
    var el = document.getElementById('activity-map');
    if (!el || typeof window.L === 'undefined') return;
    var track;
    try {
      track = JSON.parse(el.getAttribute('data-track') || '[]');
    } catch (e) {
      return;
    }
    if (!Array.isArray(track) || track.length < 2) return;
    var L = window.L;
    el.textContent = '';
    el.classList.add('map-live');
    var map = L.map(el, { preferCanvas: false, scrollWheelZoom: false, attributionControl: true });
    var tiles = el.getAttribute('data-tile-url');
    if (tiles) {
      L.tileLayer(tiles, { maxZoom: 18, attribution: el.getAttribute('data-tile-attribution') || '' }).addTo(map);
    }
    var line = L.polyline(track, { color: '#0b63c5', weight: 4, opacity: 0.9 }).addTo(map);
    var first = track[0];
    var last = track[track.length - 1];
    L.circleMarker(first, { radius: 6, color: '#1a7f37', fillOpacity: 1 }).addTo(map).bindTooltip('Start');
    L.circleMarker(last, { radius: 6, color: '#b42318', fillOpacity: 1 }).addTo(map).bindTooltip('Finish');
    map.fitBounds(line.getBounds(), { padding: [16, 16] });
    el.setAttribute('data-map-ready', 'true');
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
`;
