import { FormatError } from './format.error';
import { MAX_INPUT_BYTES, decodeActivity, detectFormat, encodeActivity, formatFromFileName } from './format-registry';
import { readFixture } from './fit/fit-fixtures.util';

/** The FormatError code `fn` throws (undefined when it does not throw, a marker when it throws something else). */
function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof FormatError ? err.code : `not a FormatError: ${String(err)}`;
  }
  return undefined;
}

const text = (s: string) => new TextEncoder().encode(s);

describe('detectFormat', () => {
  it.each([
    ['FIT header', readFixture('fit', 'garmin-fenix-5-run.fit'), 'fit'],
    ['TCX with declaration', text('<?xml version="1.0"?>\n<TrainingCenterDatabase xmlns="x"/>'), 'tcx'],
    ['GPX after a BOM and comment', text('\uFEFF<?xml version="1.0"?><!-- hi --><gpx version="1.1"/>'), 'gpx'],
    ['prefixed PWX', text('<p:pwx xmlns:p="http://www.peaksware.com/PWX/1/0"/>'), 'pwx'],
    ['real TCX fixture', readFixture('tcx', 'sup_activity_1.tcx'), 'tcx'],
    ['real GPX fixture', readFixture('gpx', 'gpxpower.gpx'), 'gpx'],
  ])('should detect %s', (_label, bytes, expected) => {
    expect(detectFormat(bytes)).toBe(expected);
  });

  it('should detect UTF-16 XML', () => {
    const s = '<?xml version="1.0" encoding="UTF-16"?><gpx/>';
    const bytes = new Uint8Array(2 + s.length * 2);
    bytes.set([0xff, 0xfe]);
    for (let i = 0; i < s.length; i += 1) bytes[2 + i * 2] = s.charCodeAt(i);
    expect(detectFormat(bytes)).toBe('gpx');
  });

  it('should fall back to the file name only when the content says nothing', () => {
    const junk = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    expect(detectFormat(junk, 'Ride.FIT')).toBe('fit');
    expect(errorCode(() => detectFormat(text('<kml/>'), 'x.gpx'))).toBe('format_unknown_format');
    expect(errorCode(() => detectFormat(junk))).toBe('format_unknown_format');
    expect(formatFromFileName('a.b.pwx')).toBe('pwx');
    expect(formatFromFileName('notes.txt')).toBeUndefined();
  });
});

describe('decodeActivity', () => {
  it('should refuse empty and oversized input before parsing', () => {
    expect(errorCode(() => decodeActivity(new Uint8Array(0)))).toBe('format_empty');
    const huge = new Uint8Array(MAX_INPUT_BYTES + 1);
    expect(errorCode(() => decodeActivity(huge, 'fit'))).toBe('format_too_large');
  });

  it('should pass allowPartial through to the FIT decoder', () => {
    const bytes = readFixture('fit', 'activity-unexpected-eof.fit');
    expect(decodeActivity(bytes).partial).toBe(true);
    expect(errorCode(() => decodeActivity(bytes, undefined, { allowPartial: false }))).toBe('format_truncated');
  });

  it('should decode by detected format and turn a wrong explicit format into a FormatError', () => {
    const bytes = readFixture('fit', 'garmin-fenix-5-bike.fit');
    expect(decodeActivity(bytes).type).toBe('cycling');
    expect(() => decodeActivity(bytes, 'gpx')).toThrow(FormatError);
  });
});

describe('encodeActivity', () => {
  it('should re-encode unless preferOriginal is set, and wrap encoder failures', () => {
    const a = decodeActivity(readFixture('fit', 'garmin-fenix-5-walk.fit'));
    expect(encodeActivity(a, 'fit', { preferOriginal: true })).toBe(a.original!.bytes);
    expect(encodeActivity(a, 'fit')).not.toBe(a.original!.bytes);
    expect(errorCode(() => encodeActivity({ ...a, start: Number.NaN }, 'fit'))).toBe('format_unencodable');
  });
});
