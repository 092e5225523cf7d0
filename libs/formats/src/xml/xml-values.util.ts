import { FormatError } from '../format.error';
import { type XmlFormat } from './xml-reader.util';

/** Bound once: called per value of every point, and a global lookup is slow inside a vm context (jest). */
const isFiniteNumber = Number.isFinite;
const toNumber = Number;

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Inclusive plausibility bounds; a value outside them is garbage, not a measurement. */
export interface Range {
  min: number;
  max: number;
}

export const RANGES = {
  latitude: { min: -90, max: 90 },
  longitude: { min: -180, max: 180 },
  altitude: { min: -12_000, max: 100_000 },
  distance: { min: 0, max: 100_000_000 },
  speed: { min: 0, max: 1_000 },
  heartRate: { min: 0, max: 255 },
  cadence: { min: 0, max: 255 },
  power: { min: 0, max: 65_535 },
  temperature: { min: -100, max: 100 },
  seconds: { min: 0, max: 100 * 24 * 3600 },
  calories: { min: 0, max: 1_000_000 },
  count: { min: 0, max: 100_000_000 },
} satisfies Record<string, Range>;

/**
 * Strict decimal parse. Empty → undefined (absent). Anything else that is not a finite decimal inside `range`
 * ('abc', 'NaN', '0x10', '1e400', a latitude of 91) is reported: silently dropping it would lose data unnoticed.
 */
export function parseDecimal(
  text: string | undefined,
  what: string,
  format: XmlFormat,
  range?: Range,
): number | undefined {
  if (text === undefined || text === '') return undefined;
  if (!DECIMAL.test(text)) throw new FormatError(format, 'malformed', `${what} is not a number: "${clip(text)}"`);
  const value = toNumber(text);
  if (!isFiniteNumber(value)) throw new FormatError(format, 'malformed', `${what} is out of range: "${clip(text)}"`);
  if (range !== undefined && (value < range.min || value > range.max)) {
    throw new FormatError(format, 'malformed', `${what} ${value} is outside ${range.min}…${range.max}`);
  }
  return value;
}

export interface ParsedTime {
  /** Epoch ms; wall clock read as UTC when `naive`. */
  ms: number;
  /** True when the text had no Z or offset: a local wall-clock time. */
  naive: boolean;
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/;

/** xsd:dateTime, with fractional seconds kept to the millisecond and offsets honoured. */
export function parseDateTime(text: string | undefined, what: string, format: XmlFormat): ParsedTime | undefined {
  if (text === undefined || text === '') return undefined;
  const m = DATE_TIME.exec(text);
  if (m === null) throw new FormatError(format, 'malformed', `${what} is not a date-time: "${clip(text)}"`);
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const fraction = m[7] === undefined ? 0 : Math.round(Number(`0${m[7]}`) * 1000);
  if (year < 1900 || year > 2200 || month < 1 || month > 12 || day < 1 || hour > 24 || minute > 59 || second > 60) {
    throw new FormatError(format, 'malformed', `${what} is not a plausible date-time: "${clip(text)}"`);
  }
  let ms = Date.UTC(year, month - 1, day, hour, minute, second) + fraction;
  if (new Date(Date.UTC(year, month - 1, day)).getUTCDate() !== day) {
    throw new FormatError(format, 'malformed', `${what} has no such day: "${clip(text)}"`);
  }
  const zone = m[8];
  if (zone !== undefined && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offsetMinutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4));
    if (offsetMinutes > 14 * 60) throw new FormatError(format, 'malformed', `${what} has a bad offset: "${text}"`);
    ms -= sign * offsetMinutes * 60_000;
  }
  return { ms, naive: zone === undefined };
}

/** ISO date-time; whole seconds unless the time has milliseconds. Naive times are written without a zone. */
export function formatDateTime(ms: number, naive = false): string {
  const iso = new Date(ms).toISOString();
  const trimmed = ms % 1000 === 0 ? iso.replace('.000Z', 'Z') : iso;
  return naive ? trimmed.slice(0, -1) : trimmed;
}

/** Fixed-point text without trailing zeros or exponent (schemas want plain decimals). */
export function formatDecimal(value: number, decimals: number): string {
  const fixed = value.toFixed(decimals);
  const text = fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
  return text === '-0' ? '0' : text;
}

/**
 * Fixed-point text for a finite value inside `range` (the same plausibility bounds the decoders enforce, so nothing
 * written is refused on reading); undefined for absent, NaN, infinite or implausible values.
 */
export function decimalText(value: number | undefined, decimals: number, range?: Range): string | undefined {
  if (value === undefined || !isFiniteNumber(value)) return undefined;
  if (range !== undefined && (value < range.min || value > range.max)) return undefined;
  return formatDecimal(value, decimals);
}

/** A plausible non-negative amount for fields a schema requires; 0 (unknown) when the value is unusable. */
export function requiredAmount(value: number | undefined, range: Range): number {
  return value !== undefined && isFiniteNumber(value) && value > 0 && value <= range.max ? value : 0;
}

/**
 * Longitude for TCX/GPX, whose schemas take [-180, 180): 180 is the same meridian as -180. Rounding happens first,
 * so 179.999999999 (which would print as "180") is written as -180 too.
 */
export function longitudeText(lon: number): string {
  const rounded = Number(formatDecimal(lon, 8));
  return formatDecimal(rounded >= 180 ? rounded - 360 : rounded, 8);
}

/** An integer inside [min, max], or undefined when the value cannot be written there. */
export function integerWithin(value: number | undefined, min: number, max: number): number | undefined {
  if (value === undefined || !isFiniteNumber(value)) return undefined;
  const rounded = Math.round(value);
  return rounded >= min && rounded <= max ? rounded : undefined;
}

/** XML 1.0 cannot carry most C0 controls, lone surrogates or U+FFFE/FFFF: strip them so the output stays well-formed. */
export function xmlSafeText(value: string): string {
  return value.replace(
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
    '',
  );
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
