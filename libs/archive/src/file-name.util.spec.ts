import { activityFileName } from './file-name.util';

describe(activityFileName.name, () => {
  const record = { id: '1a2b3c4d-5e6f-4000-8000-000000000001', type: 'mountain_biking' };

  it('should name the file by local start time, type and short id', () => {
    const name = activityFileName(
      { ...record, start_at: new Date('2026-03-01T06:05:00Z'), timezone: 'Europe/Berlin' },
      'fit',
    );
    expect(name).toBe('2026-03-01_0705-mountain_biking-1a2b3c4d.fit');
  });

  it('should fall back to UTC for an unknown or invalid zone and tame odd type strings', () => {
    const start = '2026-03-01T23:59:00Z';
    expect(activityFileName({ ...record, start_at: start, timezone: null }, 'gpx')).toBe(
      '2026-03-01_2359-mountain_biking-1a2b3c4d.gpx',
    );
    expect(activityFileName({ ...record, type: '../Run ', start_at: start, timezone: 'Mars/Olympus' }, 'tcx')).toBe(
      '2026-03-01_2359-run-1a2b3c4d.tcx',
    );
    expect(activityFileName({ ...record, type: '%%', start_at: start, timezone: null }, 'fit')).toBe(
      '2026-03-01_2359-activity-1a2b3c4d.fit',
    );
  });
});
