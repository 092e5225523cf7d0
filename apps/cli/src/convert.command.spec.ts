import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { decodeActivity } from '@tributary/formats';
import { registerConvertCommand } from './convert.command';

const FIXTURES = path.resolve(__dirname, '../../..', '..', 'shared', 'fixtures');

describe('registerConvertCommand', () => {
  let dir: string;
  let stdout: jest.SpyInstance;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tributary-convert-'));
    stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  });

  afterEach(() => {
    stdout.mockRestore();
    rmSync(dir, { recursive: true, force: true });
  });

  async function run(...args: string[]): Promise<void> {
    const sut = new Command('tributary').option('--json').exitOverride();
    registerConvertCommand(sut);
    await sut.parseAsync(['node', 'tributary', ...args]);
  }

  it('should convert FIT to TCX by extension', async () => {
    const out = path.join(dir, 'run.tcx');
    await run('convert', path.join(FIXTURES, 'fit', 'garmin-fenix-5-run.fit'), out);
    const back = decodeActivity(new Uint8Array(readFileSync(out)));
    expect(back.samples.filter((s) => s.heartRate !== undefined)).toHaveLength(21);
    expect(stdout).toHaveBeenCalledWith(expect.stringContaining('(tcx,'));
  });

  it('should honour --to and --json', async () => {
    const out = path.join(dir, 'ride.out');
    await run('--json', 'convert', path.join(FIXTURES, 'gpx', 'gpxpower.gpx'), out, '--to', 'fit');
    expect(decodeActivity(new Uint8Array(readFileSync(out))).original?.format).toBe('fit');
    const printed = JSON.parse(String((stdout.mock.calls as unknown[][])[0]![0])) as { from: string; to: string };
    expect(printed).toMatchObject({ from: 'gpx', to: 'fit' });
  });

  it('should copy the bytes when the formats match', async () => {
    const input = path.join(FIXTURES, 'fit', 'garmin-fenix-5-walk.fit');
    const out = path.join(dir, 'walk.fit');
    await run('convert', input, out);
    expect(Buffer.compare(readFileSync(out), readFileSync(input))).toBe(0);
  });

  it('should fail with a format error on a corrupt file and a validation error on bad flags', async () => {
    const bad = path.join(dir, 'bad.fit');
    writeFileSync(bad, 'not a fit file at all');
    await expect(run('convert', bad, path.join(dir, 'x.gpx'), '--from', 'fit')).rejects.toMatchObject({
      code: 'format_not_this_format',
    });
    // With no --from, a .fit name is only a hint: the FIT decoder then says what is wrong with the content.
    await expect(run('convert', bad, path.join(dir, 'x.gpx'))).rejects.toMatchObject({
      code: 'format_not_this_format',
    });
    const unknown = path.join(dir, 'bad.dat');
    writeFileSync(unknown, 'not a fit file at all');
    await expect(run('convert', unknown, path.join(dir, 'x.gpx'))).rejects.toMatchObject({
      code: 'format_unknown_format',
    });
    await expect(run('convert', bad, path.join(dir, 'x.doc'))).rejects.toMatchObject({ code: 'validation' });
    await expect(run('convert', bad, path.join(dir, 'x.gpx'), '--from', 'kml')).rejects.toMatchObject({
      code: 'validation',
    });
    await expect(run('convert', path.join(dir, 'missing.fit'), path.join(dir, 'x.gpx'))).rejects.toMatchObject({
      code: 'validation',
    });
  });
});
