import { type ExportIndexEntry, exportIndexCsv } from './export.util';

const entry = (over: Partial<ExportIndexEntry>): ExportIndexEntry => ({
  activity: 'a1',
  start: '2026-01-01T00:00:00.000Z',
  timezone: null,
  type: 'running',
  name: null,
  distance: 1000,
  presence: {},
  file: 'activities/x.fit',
  format: 'fit',
  derived: false,
  error: null,
  ...over,
});

describe(exportIndexCsv.name, () => {
  it('should write one column per service and quote what needs quoting', () => {
    const csv = exportIndexCsv(
      [
        entry({ name: 'Run, "fast"', presence: { strava: 'present' } }),
        entry({ activity: 'a2', file: null, format: null, derived: null, error: 'gone\nfor good' }),
      ],
      ['garmin_connect', 'strava'],
    );
    expect(csv.split('\r\n')).toEqual([
      'activity,start,type,name,distance,file,format,derived,error,presence_garmin_connect,presence_strava',
      'a1,2026-01-01T00:00:00.000Z,running,"Run, ""fast""",1000,activities/x.fit,fit,false,,,present',
      'a2,2026-01-01T00:00:00.000Z,running,,1000,,,,"gone\nfor good",,',
      '',
    ]);
  });

  it('should defuse names a spreadsheet would run as formulas, but keep negative numbers', () => {
    const csv = exportIndexCsv([entry({ name: '=HYPERLINK("x")', distance: -1 })], []);
    expect(csv).toContain(`"'=HYPERLINK(""x"")",-1,`);
  });
});
