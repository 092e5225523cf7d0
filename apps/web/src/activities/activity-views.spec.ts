import { renderActivityDetail, trackOf } from './activity-detail.view';
import { renderActivityList } from './activity-list.view';
import { CONNECTIONS, decodedRun, listItem } from './activity-views.fixtures';

const FORM = { from: '', to: '', type: '', service: '', status: 'all' as const };

describe('activity list view', () => {
  const page = renderActivityList({
    items: [listItem()],
    connections: CONNECTIONS,
    form: { ...FORM, status: 'missing' },
    problems: ['"From" must be a date'],
    types: ['running'],
    services: [{ id: 'strava', name: 'Strava' }],
    nextHref: '/activities?after=abc',
    csrfToken: 'tok',
  });

  it('should escape names and show each service with its state and reason', () => {
    expect(page).toContain('Morning &lt;run&gt;');
    expect(page).not.toContain('Morning <run>');
    expect(page).toContain('data-activity="6f1c1f47-52c4-4b8e-9a51-9a8f3d1a2b3c"');
    expect(page).toMatch(/data-presence="strava" data-state="present"/);
    expect(page).toMatch(/data-presence="garmin_connect" data-state="excluded"/);
    expect(page).toContain('You turned off copying between these services');
    // Connected after the activity was last synced: no state yet.
    expect(page).toMatch(/data-presence="dropbox" data-state="pending"[\s\S]*?Not checked/);
  });

  it('should keep the filter, link the next page and offer every action with the CSRF token', () => {
    expect(page).toMatch(/<option value="missing" selected>/);
    expect(page).toContain('href="/activities?after=abc" rel="next"');
    expect(page).toContain('role="alert">&quot;From&quot; must be a date');
    for (const f of ['original', 'fit', 'tcx', 'gpx']) {
      expect(page).toContain(`/activities/6f1c1f47-52c4-4b8e-9a51-9a8f3d1a2b3c/download?format=${f}`);
    }
    expect(page).toContain('action="/activities/6f1c1f47-52c4-4b8e-9a51-9a8f3d1a2b3c/forget"');
    expect(page).toContain('Nothing is deleted at any service.');
    expect(page.match(/name="_csrf" value="tok"/g)?.length).toBeGreaterThanOrEqual(3);
  });
});

describe('activity detail view', () => {
  it('should embed the track for the map script, draw charts and list laps', () => {
    const page = renderActivityDetail({
      item: listItem(),
      connections: CONNECTIONS,
      activity: decodedRun(),
      csrfToken: 't',
    });
    expect(page).toContain('id="activity-map"');
    expect(page).toContain('data-track="[[50,8],');
    expect(page).toContain('<script src="/assets/vendor/leaflet/leaflet.js" defer></script>');
    expect(page).toContain('<script src="/assets/activity-map.js" defer></script>');
    expect(page).toContain('data-tile-url=""');
    expect(page).toContain('data-chart="chart-elevation"');
    expect(page).toContain('data-chart="chart-hr"');
    expect(page).not.toContain('data-chart="chart-power"');
    expect(page).toContain('<th scope="row">2</th>');
    expect(page).toContain('Max heart rate');
    expect(page).not.toMatch(/<script>|style="/);
  });

  it('should show the recorded stats and the reason when the file cannot be had', () => {
    const page = renderActivityDetail({
      item: listItem(),
      connections: CONNECTIONS,
      fileProblem: 'The activity file could not be read.',
      csrfToken: 't',
    });
    expect(page).toContain('role="alert">The activity file could not be read.');
    expect(page).toMatch(/<dt>Distance<\/dt>\s*<dd>5.03 km<\/dd>/);
    expect(page).toMatch(/<dt>Elapsed time<\/dt>\s*<dd>30:00<\/dd>/);
    expect(page).not.toContain('activity-map');
    expect(page).not.toContain('leaflet');
  });

  it('should thin long tracks but keep the finish', () => {
    const track = trackOf(decodedRun().samples, 100);
    expect(track).toHaveLength(100);
    expect(track[track.length - 1]).toEqual([50.018, 8]);
  });
});
