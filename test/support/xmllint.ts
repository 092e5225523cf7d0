import { spawnSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import path from 'path';

const repoRoot = path.resolve(__dirname, '../..');
export const SCHEMA_DIR = path.resolve(repoRoot, '../shared/schemas');

const SCHEMAS = { tcx: 'tcx-all.xsd', gpx: 'gpx-all.xsd', pwx: 'pwx.xsd' } as const;

export interface XmllintResult {
  valid: boolean;
  errors: string;
}

/**
 * Validate XML against the project's vendored XSDs with libxml2's xmllint (offline: --nonet). A missing xmllint is a
 * test failure, never a skip: CI installs libxml2-utils, and a silent skip would hide invalid output.
 */
export function validateWithXmllint(xml: Uint8Array | string, schema: keyof typeof SCHEMAS): XmllintResult {
  const dir = mkdtempSync(path.join(tmpdir(), 'tributary-xmllint-'));
  try {
    const file = path.join(dir, `input.${schema}`);
    writeFileSync(file, xml);
    const result = spawnSync(
      'xmllint',
      ['--noout', '--nonet', '--schema', path.join(SCHEMA_DIR, SCHEMAS[schema]), file],
      { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
    );
    if (result.error !== undefined) {
      throw new Error(
        `xmllint could not be run (${result.error.message}); install libxml2-utils (apt-get install libxml2-utils)`,
      );
    }
    // Warnings about skipped duplicate imports in gpxdata.xsd are noise; keep only real messages.
    const errors = result.stderr
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.includes('Skipping import') && !line.endsWith(' validates'))
      .join('\n');
    return { valid: result.status === 0, errors };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Encodes, asserts the XML is schema-valid, and decodes it again: the round trip every XML codec spec runs. */
export function schemaValidRoundTrip<A>(
  activity: A,
  codec: { encode: (a: A) => Uint8Array; decode: (xml: Uint8Array) => A },
  schema: keyof typeof SCHEMAS,
): { xml: Uint8Array; back: A } {
  const xml = codec.encode(activity);
  const validation = validateWithXmllint(xml, schema);
  expect(validation.errors).toBe('');
  expect(validation.valid).toBe(true);
  return { xml, back: codec.decode(xml) };
}
