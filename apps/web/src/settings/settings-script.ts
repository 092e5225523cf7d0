/**
 * Progressive enhancement for /settings, served as /assets/settings.js: "Download my data" streams the zip with
 * fetch() and shows how much has arrived, then hands the file to the browser. Without JavaScript the link is an
 * ordinary download.
 */
export const SETTINGS_JS = `(function () {
  'use strict';
  var link = document.querySelector('[data-export]');
  var status = document.querySelector('[data-export-status]');
  if (!link || !status || !window.ReadableStream || !window.URL || !URL.createObjectURL) return;

  function mb(bytes) {
    return (bytes / 1048576).toFixed(1) + ' MB';
  }

  function fileName(response) {
    var header = response.headers.get('content-disposition') || '';
    var match = /filename="([^"]+)"/.exec(header);
    return match ? match[1] : 'tributary-export.zip';
  }

  link.addEventListener('click', function (event) {
    event.preventDefault();
    if (link.getAttribute('aria-disabled') === 'true') return;
    link.setAttribute('aria-disabled', 'true');
    status.textContent = 'Preparing your export…';
    status.setAttribute('data-state', 'running');
    fetch(link.getAttribute('href'), { credentials: 'same-origin' })
      .then(function (response) {
        if (!response.ok || !response.body) throw new Error('The export failed (HTTP ' + response.status + ').');
        var reader = response.body.getReader();
        var chunks = [];
        var received = 0;
        function pump() {
          return reader.read().then(function (step) {
            if (step.done) return;
            chunks.push(step.value);
            received += step.value.length;
            status.textContent = 'Downloading… ' + mb(received) + ' received';
            return pump();
          });
        }
        return pump().then(function () {
          var blob = new Blob(chunks, { type: 'application/zip' });
          var a = document.createElement('a');
          a.href = URL.createObjectURL(blob);
          a.download = fileName(response);
          document.body.appendChild(a);
          a.click();
          a.remove();
          setTimeout(function () { URL.revokeObjectURL(a.href); }, 60000);
          status.textContent = 'Done: ' + mb(received) + '.';
          status.setAttribute('data-state', 'done');
        });
      })
      .catch(function (err) {
        status.textContent = err && err.message ? err.message : 'The export failed.';
        status.setAttribute('data-state', 'failed');
      })
      .then(function () {
        link.removeAttribute('aria-disabled');
      });
  });
})();
`;
