import { XMLBuilder } from 'fast-xml-parser';
import { xmlSafeText } from './xml-values.util';

/**
 * An element's content for the writer. Keys are written in insertion order (schemas define element order, so callers
 * build objects in XSD sequence order); `@_name` keys are attributes; `#text` is text next to attributes; arrays
 * repeat the element; undefined members are left out.
 */
export interface XmlTree {
  [key: string]: XmlValue;
}
export type XmlValue = string | XmlTree | XmlTree[] | string[] | undefined;

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  textNodeName: '#text',
  format: true,
  indentBy: '  ',
  suppressEmptyNode: true,
  processEntities: true,
  tagValueProcessor: (_name: string, value: unknown) => (typeof value === 'string' ? xmlSafeText(value) : value),
  attributeValueProcessor: (_name: string, value: unknown) => (typeof value === 'string' ? xmlSafeText(value) : value),
});

/** Serialise one root element with an XML declaration, UTF-8 encoded. Text and attributes are escaped. */
export function writeXml(rootName: string, root: XmlTree): Uint8Array {
  const body = builder.build({ [rootName]: root });
  return new TextEncoder().encode(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
}
