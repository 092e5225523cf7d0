import { decodeXmlText, readXml } from './xml-reader.util';
import { writeXml } from './xml-writer.util';
import { formatErrorReason } from './synthetic-activity.fixture';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

function utf16(text: string, littleEndian: boolean, bom: boolean): Uint8Array {
  const bytes = new Uint8Array((bom ? 2 : 0) + text.length * 2);
  let offset = 0;
  if (bom) {
    bytes.set(littleEndian ? [0xff, 0xfe] : [0xfe, 0xff]);
    offset = 2;
  }
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    bytes[offset + 2 * i] = littleEndian ? code & 0xff : code >> 8;
    bytes[offset + 2 * i + 1] = littleEndian ? code >> 8 : code & 0xff;
  }
  return bytes;
}

const DOC =
  '<?xml version="1.0" encoding="UTF-8"?><root xmlns:ns3="urn:x"><ns3:Item a="1">é &amp; &#65;</ns3:Item><Item/></root>';

describe('readXml', () => {
  it('should strip namespace prefixes and return repeated elements as lists', () => {
    const sut = readXml(utf8(DOC), 'tcx');
    expect(sut.name).toBe('root');
    const items = sut.children('Item');
    expect(items).toHaveLength(2);
    expect(items[0]!.text()).toBe('é & A');
    expect(items[0]!.attr('a')).toBe('1');
    expect(items[1]!.text()).toBeUndefined();
  });

  it('should read a UTF-8 BOM and UTF-16 LE/BE with and without BOM', () => {
    const bodies = [
      new Uint8Array([0xef, 0xbb, 0xbf, ...utf8(DOC)]),
      utf16(DOC, true, true),
      utf16(DOC, false, true),
      utf16(DOC, true, false),
      utf16(DOC, false, false),
    ];
    for (const body of bodies) expect(readXml(body, 'gpx').children('Item')[0]!.text()).toBe('é & A');
  });

  it('should honour a declared ISO-8859-1 encoding', () => {
    const latin1 = new Uint8Array([...utf8('<?xml version="1.0" encoding="ISO-8859-1"?><r>'), 0xe9, ...utf8('</r>')]);
    expect(readXml(latin1, 'tcx').text()).toBe('é');
  });

  it('should refuse DOCTYPE, internal and external entities before parsing', () => {
    const laughs =
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
      '<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]><lolz>&lol2;</lolz>';
    const external = '<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><foo>&xxe;</foo>';
    const bare = '<!DOCTYPE html><html/>';
    const entityOnly = '<r><!ENTITY x "y"></r>';
    for (const doc of [laughs, external, bare, entityOnly]) {
      expect(formatErrorReason(() => readXml(utf8(doc), 'tcx'))).toBe('entities_forbidden');
    }
  });

  it('should refuse empty, whitespace-only and oversized input', () => {
    expect(formatErrorReason(() => readXml(new Uint8Array(0), 'gpx'))).toBe('empty');
    expect(formatErrorReason(() => readXml(utf8('  \n\t '), 'gpx'))).toBe('empty');
    expect(formatErrorReason(() => readXml(utf8(DOC), 'gpx', { maxBytes: 10 }))).toBe('too_large');
  });

  it('should report cut-off XML as truncated and broken XML as malformed', () => {
    expect(formatErrorReason(() => readXml(utf8(DOC.slice(0, 70)), 'tcx'))).toBe('truncated');
    expect(formatErrorReason(() => readXml(utf8(DOC.slice(0, DOC.length - 3)), 'tcx'))).toBe('truncated');
    expect(formatErrorReason(() => readXml(utf8('<a><b></a></b>'), 'tcx'))).toBe('malformed');
    expect(formatErrorReason(() => readXml(utf8('{"json": true}'), 'tcx'))).toBe('malformed');
    expect(formatErrorReason(() => readXml(utf8('<a x="1" x="2"/>'), 'tcx'))).toBe('malformed');
  });

  it('should refuse prototype-polluting element names instead of building them', () => {
    expect(formatErrorReason(() => readXml(utf8('<a><__proto__><polluted>1</polluted></__proto__></a>'), 'tcx'))).toBe(
      'malformed',
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('should refuse absurdly deep nesting', () => {
    const deep = `${'<a>'.repeat(5000)}${'</a>'.repeat(5000)}`;
    expect(formatErrorReason(() => readXml(utf8(deep), 'tcx'))).toBe('malformed');
  });
});

describe('decodeXmlText', () => {
  it('should drop a BOM that survives decoding', () => {
    expect(decodeXmlText(new Uint8Array([0xef, 0xbb, 0xbf, 0x3c, 0x61, 0x2f, 0x3e]), 'gpx')).toBe('<a/>');
  });
});

describe('writeXml', () => {
  it('should write a declaration, escape text and attributes and drop characters XML cannot hold', () => {
    const text = new TextDecoder().decode(
      writeXml('root', { '@_note': 'a "b" <c>', name: 'x & y < z\u0001', list: [{ '#text': '1' }, { '#text': '2' }] }),
    );
    expect(text.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<root')).toBe(true);
    const back = readXml(utf8(text), 'tcx');
    expect(back.attr('note')).toBe('a "b" <c>');
    expect(back.childText('name')).toBe('x & y < z');
    expect(back.children('list').map((n) => n.text())).toEqual(['1', '2']);
  });
});
