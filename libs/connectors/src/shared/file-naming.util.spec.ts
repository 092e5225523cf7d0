import { sampleActivity } from '../testing/connector-test.util';
import {
  DEFAULT_NAME_TEMPLATE,
  MAX_FILE_NAME_LENGTH,
  renderFileName,
  sanitizeFileName,
  startFromFileName,
  typeFromPathTags,
  validateNameTemplate,
} from './file-naming.util';

describe('renderFileName', () => {
  it('should format the local start time in the activity zone', () => {
    expect(renderFileName(DEFAULT_NAME_TEMPLATE, sampleActivity(), 'fit')).toBe(
      '2024-05-01_08-00-00_Morning_run_Run.fit',
    );
    expect(renderFileName(DEFAULT_NAME_TEMPLATE, sampleActivity({ timezone: undefined }), 'tcx')).toBe(
      '2024-05-01_06-00-00_Morning_run_Run.tcx',
    );
    expect(renderFileName(DEFAULT_NAME_TEMPLATE, sampleActivity({ naive: true }), 'gpx')).toBe(
      '2024-05-01_06-00-00_Morning_run_Run.gpx',
    );
  });

  it('should never produce path separators, reserved characters or names over 250 characters', () => {
    const name = renderFileName('#NAME %Y', sampleActivity({ name: '../../etc/passwd <x>:"y"|?*\u0000' }), 'fit');
    expect(name).toBe('etc_passwd_x_y_2024.fit');
    const long = renderFileName(DEFAULT_NAME_TEMPLATE, sampleActivity({ name: 'ü'.repeat(400) }), 'fit');
    expect(long.length).toBeLessThanOrEqual(MAX_FILE_NAME_LENGTH);
    expect(long.endsWith('.fit')).toBe(true);
  });
});

describe('sanitizeFileName', () => {
  it('should keep letters of any script and drop leading dots', () => {
    expect(sanitizeFileName('..Café Lauf 5km')).toBe('Café_Lauf_5km');
  });
});

describe('validateNameTemplate', () => {
  it('should require a date field', () => {
    expect(validateNameTemplate(undefined)).toBe(DEFAULT_NAME_TEMPLATE);
    expect(() => validateNameTemplate('#NAME')).toThrow(/date field/);
    expect(() => validateNameTemplate(42)).toThrow(/non-empty string/);
  });
});

describe('typeFromPathTags', () => {
  it('should apply tapiriik tags in precedence order', () => {
    expect(typeFromPathTags('/Runs/2024.fit')).toBe('running');
    expect(typeFromPathTags('/Runtastic/export.gpx')).toBeUndefined();
    expect(typeFromPathTags('/Mountain Biking/a.fit')).toBe('mountain_biking');
    expect(typeFromPathTags('/mtn bike/a.fit')).toBe('mountain_biking');
    expect(typeFromPathTags('/bike/a.fit')).toBe('cycling');
    expect(typeFromPathTags('/XC Ski/a.fit')).toBe('cross_country_skiing');
    expect(typeFromPathTags('/2024/a.fit')).toBeUndefined();
  });
});

describe('startFromFileName', () => {
  it('should read the template date as a naive wall clock and reject impossible dates', () => {
    expect(startFromFileName('2024-05-01_08-00-00_x.fit')).toBe(Date.UTC(2024, 4, 1, 8));
    expect(startFromFileName('2024-02-31_08-00-00_x.fit')).toBeUndefined();
    expect(startFromFileName('2024-05-01_25-00-00_x.fit')).toBeUndefined();
    expect(startFromFileName('export.fit')).toBeUndefined();
  });
});
