import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { FormatError } from '../format.error';

/** The XML formats this reader serves; FormatError carries it so the caller knows which decoder refused the file. */
export type XmlFormat = 'tcx' | 'gpx' | 'pwx';

/** Bound once: element lookups run per point, and a global lookup is slow inside a vm context (jest). */
const hasOwn = Object.hasOwn;
const isArray = Array.isArray;

export const DEFAULT_MAX_XML_BYTES = 64 * 1024 * 1024;

export interface ReadXmlOptions {
  /** Inputs larger than this are refused before any decoding ('too_large'). */
  maxBytes?: number;
}

/**
 * Read-only view of one parsed element. Namespace prefixes are already stripped, so every lookup is by local name:
 * `ns3:TPX`, `ax:TPX` and `TPX` are the same element, which is what real files need (each app picks its own prefix).
 */
export class XmlNode {
  constructor(
    readonly name: string,
    private readonly raw: unknown,
  ) {}

  /** All child elements with this local name, in document order. */
  children(name: string): XmlNode[] {
    const obj = this.object();
    if (obj === undefined || !hasOwn(obj, name)) return [];
    const value = obj[name];
    const list = isArray(value) ? (value as unknown[]) : [value];
    return list.map((item) => new XmlNode(name, item));
  }

  /** The first child element with this local name (without wrapping the others). */
  child(name: string): XmlNode | undefined {
    const obj = this.object();
    if (obj === undefined || !hasOwn(obj, name)) return undefined;
    const value = obj[name];
    const first: unknown = isArray(value) ? (value as unknown[])[0] : value;
    return isArray(value) && value.length === 0 ? undefined : new XmlNode(name, first);
  }

  /** Local names of the child elements present (attributes and text excluded). */
  childNames(): string[] {
    const obj = this.object();
    if (obj === undefined) return [];
    return Object.keys(obj).filter((key) => !key.startsWith('@_') && key !== '#text');
  }

  /** Trimmed text content; undefined when the element is empty. */
  text(): string | undefined {
    let value: unknown = this.raw;
    if (typeof value === 'object' && value !== null) value = (value as Record<string, unknown>)['#text'];
    if (typeof value === 'number' || typeof value === 'boolean') value = String(value);
    if (typeof value !== 'string') return undefined;
    const trimmed = value.trim();
    return trimmed === '' ? undefined : trimmed;
  }

  childText(name: string): string | undefined {
    return this.child(name)?.text();
  }

  /** Attribute by local name (`xsi:type` is `type`). */
  attr(name: string): string | undefined {
    const obj = this.object();
    const value = obj?.[`@_${name}`];
    if (typeof value === 'string') return value.trim();
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    return undefined;
  }

  private object(): Record<string, unknown> | undefined {
    return typeof this.raw === 'object' && this.raw !== null ? (this.raw as Record<string, unknown>) : undefined;
  }
}

// DTDs are never needed by activity formats and are the entry point for billion-laughs and XXE attacks, so any
// declaration is refused outright, even one inside a comment: cheaper and safer than parsing it to decide.
const FORBIDDEN_DECLARATION = /<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)/i;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  processEntities: true,
  // Decodes numeric character references (&#65;) as well as the predefined entities.
  htmlEntities: true,
  // Every element is a list, so a lone <Lap> and repeated <Lap>s read the same way.
  isArray: (_name: string, _jpath: unknown, _isLeaf: boolean, isAttribute: boolean) => !isAttribute,
  // Building a path string for every element costs ~40 % of the parse time and nothing here reads it.
  jPath: false,
});

/** Bytes → text honouring the BOM (UTF-8, UTF-16 LE/BE) or the declared single-byte encoding. */
export function decodeXmlText(input: Uint8Array, format: XmlFormat, options: ReadXmlOptions = {}): string {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_XML_BYTES;
  if (input.byteLength === 0) throw new FormatError(format, 'empty', 'the file is empty');
  if (input.byteLength > maxBytes) {
    throw new FormatError(format, 'too_large', `the file is ${input.byteLength} bytes; the limit is ${maxBytes}`);
  }
  const [b0, b1, b2, b3] = [input[0], input[1], input[2], input[3]];
  let text: string;
  if (b0 === 0xef && b1 === 0xbb && b2 === 0xbf) text = new TextDecoder('utf-8').decode(input.subarray(3));
  else if (b0 === 0xff && b1 === 0xfe) text = new TextDecoder('utf-16le').decode(input.subarray(2));
  else if (b0 === 0xfe && b1 === 0xff) text = new TextDecoder('utf-16be').decode(input.subarray(2));
  else if (b0 === 0x3c && b1 === 0x00 && b2 === 0x3f && b3 === 0x00) text = new TextDecoder('utf-16le').decode(input);
  else if (b0 === 0x00 && b1 === 0x3c && b2 === 0x00 && b3 === 0x3f) text = new TextDecoder('utf-16be').decode(input);
  else text = new TextDecoder(declaredSingleByteEncoding(input) ?? 'utf-8').decode(input);
  // A UTF-8 BOM written inside a UTF-16 file, or a stray one after decoding.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') throw new FormatError(format, 'empty', 'the file holds only whitespace');
  return text;
}

function declaredSingleByteEncoding(input: Uint8Array): string | undefined {
  const head = String.fromCharCode(...input.subarray(0, Math.min(200, input.byteLength)));
  const match = /^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head);
  const declared = match?.[1]?.toLowerCase();
  if (declared === undefined) return undefined;
  if (['iso-8859-1', 'iso8859-1', 'latin1', 'latin-1', 'windows-1252', 'cp1252'].includes(declared)) {
    return 'windows-1252';
  }
  return undefined;
}

/**
 * Parse an XML activity file safely and return its root element. Refuses DTD declarations before parsing, refuses
 * oversized input before decoding, and reports broken XML as 'truncated' (the text simply stops) or 'malformed'.
 */
export function readXml(input: Uint8Array, format: XmlFormat, options: ReadXmlOptions = {}): XmlNode {
  const text = decodeXmlText(input, format, options);
  if (FORBIDDEN_DECLARATION.test(text)) {
    throw new FormatError(format, 'entities_forbidden', 'DOCTYPE/ENTITY declarations are not accepted');
  }
  const validation = XMLValidator.validate(text);
  if (validation !== true) {
    const { msg, line } = validation.err;
    const reason = looksTruncated(text, msg, line) ? 'truncated' : 'malformed';
    throw new FormatError(format, reason, `not well-formed XML at line ${line}: ${msg}`);
  }
  let parsed: unknown;
  try {
    parsed = parser.parse(text);
  } catch (cause) {
    // The parser rejects prototype-polluting names (__proto__, constructor) and absurd nesting by throwing.
    throw new FormatError(format, 'malformed', `XML could not be parsed: ${describe(cause)}`, cause);
  }
  const roots = typeof parsed === 'object' && parsed !== null ? Object.keys(parsed) : [];
  const rootName = roots.find((key) => !key.startsWith('?') && !key.startsWith('@_') && key !== '#text');
  if (rootName === undefined) throw new FormatError(format, 'malformed', 'the document has no root element');
  const rootValue = (parsed as Record<string, unknown>)[rootName];
  return new XmlNode(rootName, Array.isArray(rootValue) ? rootValue[0] : rootValue);
}

function looksTruncated(text: string, msg: string, line: number): boolean {
  if (msg.startsWith('Unclosed tag') || msg.startsWith("Invalid '[")) return true;
  // Errors that only the end of input produces: a tag, attribute or declaration cut in the middle.
  const cutMidToken = /open quote|doesn't have proper closing|Start tag expected|is an invalid name/.test(msg);
  return cutMidToken && line >= text.trimEnd().split(/\r?\n/).length;
}

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
