import * as fs from 'node:fs';
import * as path from 'node:path';

/** The shared real-device fixtures live beside the repository: <repo>/../shared/fixtures/<format>. */
export const FIXTURES_ROOT = path.resolve(__dirname, '../../../../..', 'shared', 'fixtures');

export function fixtureFiles(format: 'fit' | 'tcx' | 'gpx'): string[] {
  const dir = path.join(FIXTURES_ROOT, format);
  return fs
    .readdirSync(dir)
    .filter((f) => f.toLowerCase().endsWith(`.${format}`))
    .sort();
}

export function readFixture(format: 'fit' | 'tcx' | 'gpx', name: string): Uint8Array {
  return new Uint8Array(fs.readFileSync(path.join(FIXTURES_ROOT, format, name)));
}
