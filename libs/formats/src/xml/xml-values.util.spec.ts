import { FormatError } from '../format.error';
import { formatDateTime, formatDecimal, integerWithin, parseDateTime, parseDecimal } from './xml-values.util';

describe('parseDateTime', () => {
  it('should read Z, offsets, fractional seconds and zone-less local times', () => {
    expect(parseDateTime('2012-12-26T21:29:53Z', 't', 'tcx')).toEqual({
      ms: Date.UTC(2012, 11, 26, 21, 29, 53),
      naive: false,
    });
    expect(parseDateTime('2012-12-26T22:29:53+01:00', 't', 'tcx')!.ms).toBe(Date.UTC(2012, 11, 26, 21, 29, 53));
    expect(parseDateTime('2012-12-26T18:29:53-0300', 't', 'tcx')!.ms).toBe(Date.UTC(2012, 11, 26, 21, 29, 53));
    expect(parseDateTime('2016-05-27T10:08:47.8Z', 't', 'gpx')!.ms).toBe(Date.UTC(2016, 4, 27, 10, 8, 47, 800));
    expect(parseDateTime('2014-10-11T15:08:45', 't', 'pwx')).toEqual({
      ms: Date.UTC(2014, 9, 11, 15, 8, 45),
      naive: true,
    });
    expect(parseDateTime(undefined, 't', 'pwx')).toBeUndefined();
  });

  it('should refuse malformed suffixes, impossible dates and garbage', () => {
    for (const bad of [
      '2012-12-26T21:29:53ZZ',
      '2012-02-30T00:00:00Z',
      '2012-13-01T00:00:00Z',
      'yesterday',
      '99999-01-01T00:00:00Z',
    ]) {
      expect(() => parseDateTime(bad, 't', 'tcx')).toThrow(FormatError);
    }
  });
});

describe('formatDateTime', () => {
  it('should write whole seconds without fraction, keep milliseconds, and omit the zone for naive times', () => {
    expect(formatDateTime(Date.UTC(2020, 0, 1))).toBe('2020-01-01T00:00:00Z');
    expect(formatDateTime(Date.UTC(2020, 0, 1, 0, 0, 0, 467))).toBe('2020-01-01T00:00:00.467Z');
    expect(formatDateTime(Date.UTC(2020, 0, 1), true)).toBe('2020-01-01T00:00:00');
  });
});

describe('parseDecimal', () => {
  it('should read decimals and treat empty as absent', () => {
    expect(parseDecimal('-79.0931872185', 'x', 'tcx')).toBe(-79.0931872185);
    expect(parseDecimal('1e3', 'x', 'tcx')).toBe(1000);
    expect(parseDecimal(undefined, 'x', 'tcx')).toBeUndefined();
  });

  it('should refuse NaN, hex, infinities and values outside the range', () => {
    for (const bad of ['NaN', 'abc', '0x10', '1e400', 'Infinity', '12abc']) {
      expect(() => parseDecimal(bad, 'x', 'tcx')).toThrow(FormatError);
    }
    expect(() => parseDecimal('91', 'lat', 'gpx', { min: -90, max: 90 })).toThrow(/outside/);
  });
});

describe('formatDecimal', () => {
  it('should write plain decimals without trailing zeros or exponent', () => {
    expect(formatDecimal(1.5, 3)).toBe('1.5');
    expect(formatDecimal(2, 3)).toBe('2');
    expect(formatDecimal(1e-9, 8)).toBe('0');
    expect(formatDecimal(-0.0000001, 3)).toBe('0');
    expect(integerWithin(254.4, 0, 254)).toBe(254);
    expect(integerWithin(255, 0, 254)).toBeUndefined();
  });
});
