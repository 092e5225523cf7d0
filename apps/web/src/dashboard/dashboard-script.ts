/**
 * Progressive enhancement for the dashboard, served as /assets/dashboard.js (the CSP allows only same-origin scripts).
 * "Sync now" calls POST /api/sync/now instead of reloading, the status line follows GET /api/sync/status once a
 * second while a sync is queued or running, and when it ends the problems, service cards and activity feed are refreshed
 * from the server-rendered page. Without JavaScript the form posts and the page shows the same state on reload.
 */
export const DASHBOARD_JS = `(function () {
  'use strict';
  var status = document.querySelector('[data-sync-status]');
  if (!status) return;
  var bar = document.querySelector('[data-sync-progress]');
  var form = document.querySelector('[data-sync-form]');
  var cooldown = document.querySelector('[data-sync-cooldown]');
  var meta = document.querySelector('meta[name="csrf-token"]');
  var token = meta ? meta.getAttribute('content') : '';
  var polling = false;
  var seenActive = false;
  var failures = 0;

  function cooldownText(seconds) {
    return seconds > 0 ? 'Sync now is available again in ' + seconds + ' s.' : '';
  }

  function show(s) {
    status.textContent = s.label;
    status.setAttribute('data-state', s.state);
    status.setAttribute('data-active', s.active ? 'true' : 'false');
    if (bar) {
      bar.hidden = !s.active;
      bar.value = s.percent;
      bar.textContent = s.percent + ' %';
    }
    if (cooldown) cooldown.textContent = cooldownText(s.cooldownSeconds);
  }

  function refreshSections() {
    fetch('/dashboard', { credentials: 'same-origin', headers: { accept: 'text/html' } })
      .then(function (r) { return r.ok ? r.text() : ''; })
      .then(function (text) {
        if (!text) return;
        var doc = new DOMParser().parseFromString(text, 'text/html');
        // Problems, service cards and the feed, replaced as one block so nothing is duplicated or left stale.
        var fresh = doc.querySelector('[data-dashboard-live]');
        var current = document.querySelector('[data-dashboard-live]');
        if (fresh && current) current.replaceWith(document.importNode(fresh, true));
      })
      .catch(function () {});
  }

  function poll() {
    fetch('/api/sync/status', { credentials: 'same-origin', headers: { accept: 'application/json' } })
      .then(function (r) {
        if (!r.ok) throw new Error('status ' + r.status);
        return r.json();
      })
      .then(function (s) {
        failures = 0;
        show(s);
        if (s.active) {
          seenActive = true;
          setTimeout(poll, 1000);
        } else {
          polling = false;
          if (seenActive) refreshSections();
          seenActive = false;
        }
      })
      .catch(function () {
        failures += 1;
        if (failures < 10) setTimeout(poll, 3000);
        else polling = false;
      });
  }

  function startPolling() {
    if (polling) return;
    polling = true;
    poll();
  }

  if (form) {
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var button = form.querySelector('button');
      if (button) button.disabled = true;
      fetch('/api/sync/now', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { accept: 'application/json', 'x-csrf-token': token },
      })
        .then(function (r) {
          var retryAfter = Number(r.headers.get('retry-after') || 0);
          return r.json().then(function (body) { return { status: r.status, body: body, retryAfter: retryAfter }; });
        })
        .then(function (res) {
          if (res.status === 202) {
            show({ label: 'queued', state: 'queued', active: true, percent: 0, cooldownSeconds: 0 });
            seenActive = true;
            startPolling();
          } else if (res.status === 429) {
            if (cooldown) cooldown.textContent = cooldownText(res.retryAfter);
          } else if (cooldown) {
            cooldown.textContent = (res.body && res.body.message) || 'Sync now failed; try again.';
          }
        })
        .catch(function () {
          if (cooldown) cooldown.textContent = 'Could not reach the hub; try again.';
        })
        .then(function () {
          if (button) button.disabled = false;
        });
    });
  }

  if (status.getAttribute('data-active') === 'true') {
    seenActive = true;
    startPolling();
  }
})();
`;
