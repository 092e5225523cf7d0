import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ConfigError } from '@tributary/common';
import {
  decodeTrack,
  encodeTrack,
  formatFromName,
  maybeGunzip,
  parseTrackSpec,
  sniffFormat,
  trackFromSpec,
  type SimFormat,
  type SimTrack,
} from './activity-file.util';
import { isRecord } from './http.util';
import { SandboxInputError, SandboxNotFoundError } from './sandbox.error';

/** The repository root: the nearest ancestor of this file holding nest-cli.json (works from src/ and dist/). */
export function findRepoRoot(from: string = __dirname): string | undefined {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, 'nest-cli.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Where sample files live: an explicit directory, else `<repo>/../shared/fixtures`, else `apps/sandbox/fixtures`. */
export function resolveFixturesDir(explicit?: string): string {
  if (explicit !== undefined) {
    if (!existsSync(explicit)) throw new ConfigError(`Sandbox fixtures directory ${explicit} does not exist`);
    return explicit;
  }
  const root = findRepoRoot();
  const candidates =
    root === undefined ? [] : [resolve(root, '../shared/fixtures'), resolve(root, 'apps/sandbox/fixtures')];
  const found = candidates.find((c) => existsSync(c));
  if (found === undefined) {
    throw new ConfigError(
      `Sandbox fixtures not found (looked in ${candidates.join(', ') || 'no repository root'}); pass --fixtures <dir>`,
    );
  }
  return found;
}

export class FixtureLibrary {
  constructor(private readonly dir: string | undefined) {}

  get directory(): string | undefined {
    return this.dir;
  }

  /** Reads `fit/x.fit` or just `x.fit` (searched in fit/, tcx/, gpx/). Names cannot escape the fixtures directory. */
  read(name: string): { bytes: Buffer; name: string } {
    if (this.dir === undefined) throw new SandboxInputError('No fixtures directory configured');
    if (name.includes('..') || name.startsWith('/')) throw new SandboxInputError(`Invalid fixture name ${name}`);
    const direct = join(this.dir, name);
    const candidates = [direct, ...['fit', 'tcx', 'gpx'].map((d) => join(this.dir as string, d, name))];
    const path = candidates.find((c) => existsSync(c));
    if (path === undefined) throw new SandboxNotFoundError('Fixture', name);
    return { bytes: readFileSync(path), name: basename(path) };
  }

  list(): string[] {
    if (this.dir === undefined) return [];
    return ['fit', 'tcx', 'gpx'].flatMap((d) =>
      existsSync(join(this.dir as string, d)) ? readdirSync(join(this.dir as string, d)).map((f) => `${d}/${f}`) : [],
    );
  }
}

export interface ResolvedActivity {
  bytes: Buffer;
  format: SimFormat;
  name: string;
  track: SimTrack;
}

/**
 * Turns a control-API activity source into file bytes plus the decoded track. Sources (exactly one):
 * `fixture` (file name), `file` ({base64, name?}), or `spec` (synthetic JSON, see parseTrackSpec) with `format`.
 */
export function resolveActivitySource(
  body: Record<string, unknown>,
  fixtures: FixtureLibrary,
  defaultFormat: SimFormat,
): ResolvedActivity {
  const requested = typeof body.format === 'string' ? body.format.toLowerCase() : undefined;
  if (requested !== undefined && !['fit', 'tcx', 'gpx'].includes(requested)) {
    throw new SandboxInputError('format must be fit, tcx or gpx');
  }
  if (typeof body.fixture === 'string') {
    const { bytes, name } = fixtures.read(body.fixture);
    return decodeResolved(bytes, name);
  }
  if (isRecord(body.file)) {
    const b64 = body.file.base64;
    if (typeof b64 !== 'string') throw new SandboxInputError('file.base64 is required');
    const bytes = Buffer.from(b64, 'base64');
    const name =
      typeof body.file.name === 'string'
        ? body.file.name
        : `upload.${requested ?? sniffFormat(maybeGunzip(bytes)) ?? 'fit'}`;
    return decodeResolved(bytes, name);
  }
  if (isRecord(body.spec)) {
    const track = trackFromSpec(parseTrackSpec(body.spec));
    const format = (requested as SimFormat | undefined) ?? defaultFormat;
    const bytes = encodeTrack(track, format);
    return {
      bytes,
      format,
      name: `sandbox-${new Date(track.start).toISOString().replace(/[:.]/g, '-')}.${format}`,
      track,
    };
  }
  throw new SandboxInputError(
    'Give one of: fixture (name), file ({base64, name}), spec ({start, durationSeconds, sport, …})',
  );
}

function decodeResolved(bytes: Buffer, name: string): ResolvedActivity {
  const plain = maybeGunzip(bytes);
  const format = formatFromName(name) ?? sniffFormat(plain);
  if (format === undefined) throw new SandboxInputError(`Cannot tell the format of ${name}`);
  try {
    return { bytes: plain, format, name: name.replace(/\.gz$/i, ''), track: decodeTrack(plain, format) };
  } catch (err) {
    throw new SandboxInputError(`${name} cannot be read: ${err instanceof Error ? err.message : String(err)}`);
  }
}
