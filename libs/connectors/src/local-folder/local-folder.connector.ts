import { randomBytes } from 'node:crypto';
import { constants as fsConstants, type Dirent } from 'node:fs';
import { copyFile, link, mkdir, open, readFile, readdir, realpath, stat, unlink } from 'node:fs/promises';
import * as path from 'node:path';
import { ALL_ACTIVITY_TYPES, type Activity, type ActivityFormat, type ActivitySummary } from '@tributary/activity';
import { ConfigError, PermanentError, ValidationError } from '@tributary/common';
import {
  ActivityNotAcceptedError,
  DuplicateAtDestinationError,
  PathNotAllowedError,
  RemoteNotFoundError,
  UpstreamUnavailableError,
} from '../errors/connector.error';
import { type ActivityCodec, encodeForUpload, formatFromFileName } from '../shared/activity-codec';
import { DEFAULT_NAME_TEMPLATE, renderFileName, validateNameTemplate } from '../shared/file-naming.util';
import {
  type AuthSpec,
  type ConnectorContext,
  type JsonObject,
  type ListExclusion,
  type ListOptions,
  type ListPage,
  type ServiceCapabilities,
  type ServiceConnector,
  type UploadResult,
} from '../service-connector.interface';

const SERVICE = 'local_folder';
const FORMATS: readonly ActivityFormat[] = ['fit', 'tcx', 'gpx', 'pwx'];
/** Files per listing page: each one is decoded to learn its start time. */
const PAGE_SIZE = 200;

export interface LocalFolderConnectorOptions {
  /** LOCAL_FOLDER_ROOT: every connection's folder lives below it. Unset disables the service. */
  root?: string;
}

export interface LocalFolderConfig {
  /** Relative to the root. */
  folder: string;
  format: ActivityFormat;
  nameTemplate: string;
}

export function localFolderConfig(config: Readonly<JsonObject>): LocalFolderConfig {
  const folder = config.folder ?? '';
  if (typeof folder !== 'string') throw new ValidationError('folder must be a string');
  checkRelative(folder, 'folder');
  const format = config.format ?? 'fit';
  if (typeof format !== 'string' || !(FORMATS as readonly string[]).includes(format)) {
    throw new ValidationError(`format must be one of ${FORMATS.join(', ')}`);
  }
  return {
    folder,
    format: format as ActivityFormat,
    nameTemplate: validateNameTemplate(config.nameTemplate ?? DEFAULT_NAME_TEMPLATE),
  };
}

/** Rejects absolute paths, `..`, backslashes and NUL before the path ever reaches the file system. */
function checkRelative(p: string, what: string): void {
  if (p.includes('\0') || p.includes('\\') || path.isAbsolute(p) || p.split('/').some((seg) => seg === '..')) {
    throw new PathNotAllowedError(`${what} must be a relative path inside the local folder root`);
  }
}

function inside(parent: string, child: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * A directory on this machine (for self-hosters and tests). Remote ids are paths relative to the connection's
 * folder. Nothing outside LOCAL_FOLDER_ROOT can be read or written: `..` and absolute paths are refused up front
 * and every resolved real path (after symlinks) is checked against the real root.
 */
export class LocalFolderConnector implements ServiceConnector {
  readonly id = 'local_folder' as const;
  readonly name = 'Local folder';
  readonly auth: AuthSpec = { kind: 'path' };
  readonly capabilities: ServiceCapabilities = {
    supplies: true,
    receives: true,
    acceptedFormats: FORMATS,
    acceptedTypes: new Set(ALL_ACTIVITY_TYPES),
    acceptsStationary: false,
    acceptsNonGps: true,
    partialSyncTrigger: 'poll',
    exhaustiveListing: true,
  };

  constructor(
    private readonly options: LocalFolderConnectorOptions,
    private readonly codec: ActivityCodec,
  ) {}

  private async realRoot(): Promise<string> {
    if (this.options.root === undefined)
      throw new ConfigError('LOCAL_FOLDER_ROOT is not set; the local folder service is disabled');
    try {
      return await realpath(this.options.root);
    } catch (err) {
      throw new ConfigError(`LOCAL_FOLDER_ROOT ${this.options.root} is not accessible (${errno(err) ?? 'error'})`);
    }
  }

  /** The connection's folder as a real path inside the root; created when `create` is set. */
  private async folderPath(config: LocalFolderConfig, create = false): Promise<string> {
    const root = await this.realRoot();
    const target = path.resolve(root, config.folder);
    if (!inside(root, target)) throw new PathNotAllowedError('folder is outside the local folder root');
    if (create) await mkdir(target, { recursive: true });
    let real: string;
    try {
      real = await realpath(target);
    } catch (err) {
      if (errno(err) === 'ENOENT') throw new RemoteNotFoundError(SERVICE, config.folder);
      throw new UpstreamUnavailableError(SERVICE, `cannot open the folder (${errno(err) ?? 'error'})`, undefined, err);
    }
    if (!inside(root, real)) throw new PathNotAllowedError('folder resolves (through a symlink) outside the root');
    return real;
  }

  async validateConfig(config: JsonObject): Promise<JsonObject> {
    const c = localFolderConfig(config);
    await this.folderPath(c, true);
    return { ...config, folder: c.folder, format: c.format, nameTemplate: c.nameTemplate };
  }

  async listActivities(ctx: ConnectorContext, options: ListOptions): Promise<ListPage> {
    const config = localFolderConfig(ctx.config);
    const folder = await this.folderPath(config);
    const files = await this.walk(folder);
    const start = options.cursor === undefined ? 0 : Number(options.cursor);
    if (!Number.isInteger(start) || start < 0) throw new ValidationError(`invalid listing cursor ${options.cursor}`);
    const slice = files.slice(start, start + PAGE_SIZE);
    const page: ListPage = { activities: [], exclusions: [] };
    for (const file of slice) {
      if ('reason' in file) {
        page.exclusions.push(file);
        continue;
      }
      if (!options.exhaustive && options.after !== undefined && file.mtimeMs < options.after) continue;
      try {
        page.activities.push(this.summarise(file.relative, await this.read(folder, file.relative)));
      } catch (err) {
        if (!(err instanceof PermanentError)) throw err;
        page.exclusions.push({ remoteId: file.relative, reason: 'corrupt', message: err.message, permanent: true });
      }
    }
    page.cursor = start + PAGE_SIZE < files.length ? String(start + PAGE_SIZE) : undefined;
    return page;
  }

  /** Every activity file below `folder`, sorted; symlinks are followed only while they stay inside the folder. */
  private async walk(folder: string): Promise<({ relative: string; mtimeMs: number } | ListExclusion)[]> {
    const out: ({ relative: string; mtimeMs: number } | ListExclusion)[] = [];
    const seen = new Set<string>([folder]);
    const visit = async (dir: string, rel: string): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        throw new UpstreamUnavailableError(SERVICE, `cannot read a folder (${errno(err) ?? 'error'})`, undefined, err);
      }
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const entry of entries) {
        // Dot files are our own temp files mid-write or hidden files; never activities.
        if (entry.name.startsWith('.')) continue;
        const relative = rel === '' ? entry.name : `${rel}/${entry.name}`;
        const full = path.join(dir, entry.name);
        let real = full;
        if (entry.isSymbolicLink()) {
          try {
            real = await realpath(full);
          } catch {
            continue;
          }
          if (!inside(folder, real)) {
            out.push({
              remoteId: relative,
              reason: 'path_not_allowed',
              message: 'symlink leaves the folder',
              permanent: true,
            });
            continue;
          }
        }
        const info = await stat(real).catch(() => undefined);
        if (info === undefined) continue;
        if (info.isDirectory()) {
          if (seen.has(real)) continue;
          seen.add(real);
          await visit(real, relative);
        } else if (info.isFile() && formatFromFileName(entry.name) !== undefined) {
          out.push({ relative, mtimeMs: info.mtimeMs });
        }
      }
    };
    await visit(folder, '');
    return out;
  }

  /** Reads a file by its remote id, refusing anything that resolves outside the folder. */
  private async read(folder: string, relative: string): Promise<Activity> {
    checkRelative(relative, 'file');
    const format = formatFromFileName(relative);
    if (format === undefined) throw new PathNotAllowedError(`${relative} is not an activity file`);
    const full = path.resolve(folder, relative);
    if (!inside(folder, full)) throw new PathNotAllowedError('file is outside the folder');
    let real: string;
    try {
      real = await realpath(full);
    } catch (err) {
      if (errno(err) === 'ENOENT') throw new RemoteNotFoundError(SERVICE, relative);
      throw new UpstreamUnavailableError(SERVICE, `cannot open ${relative}`, undefined, err);
    }
    if (!inside(folder, real)) throw new PathNotAllowedError('file resolves (through a symlink) outside the folder');
    const bytes = new Uint8Array(await readFile(real));
    const activity = this.codec.decodeActivity(bytes, format);
    return { ...activity, original: { format, bytes, name: path.basename(relative) } };
  }

  private summarise(relative: string, a: Activity): ActivitySummary {
    return {
      remoteId: relative,
      start: a.start,
      end: a.end,
      timezone: a.timezone,
      naive: a.naive,
      type: a.type,
      name: a.name,
      stationary: a.stationary,
      gps: a.gps,
      trainer: a.trainer,
      distance: a.stats.distance,
      externalIds: [path.basename(relative)],
      originalFormats: a.original === undefined ? [] : [a.original.format],
      complete: true,
    };
  }

  async downloadActivity(ctx: ConnectorContext, summary: ActivitySummary): Promise<Activity> {
    const folder = await this.folderPath(localFolderConfig(ctx.config));
    return this.read(folder, summary.remoteId);
  }

  async uploadActivity(ctx: ConnectorContext, activity: Activity): Promise<UploadResult> {
    const config = localFolderConfig(ctx.config);
    if (activity.stationary === true || activity.samples.length === 0) {
      throw new ActivityNotAcceptedError(
        SERVICE,
        'stationary',
        'files need samples; stationary activities are skipped',
      );
    }
    const folder = await this.folderPath(config, true);
    const file = encodeForUpload(this.codec, activity, [config.format]);
    const name = renderFileName(config.nameTemplate, activity, file.format);
    const target = path.join(folder, name);
    const temp = path.join(folder, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
    const handle = await open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(file.bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await this.publish(temp, target);
    } catch (err) {
      if (errno(err) !== 'EEXIST') {
        throw new UpstreamUnavailableError(SERVICE, `cannot write ${name} (${errno(err) ?? 'error'})`, undefined, err);
      }
      const existing = await readFile(target).catch(() => undefined);
      // The same bytes: an earlier attempt of this very upload finished. Anything else is never overwritten.
      if (existing === undefined || !existing.equals(Buffer.from(file.bytes))) {
        throw new DuplicateAtDestinationError(SERVICE, name);
      }
    } finally {
      await unlink(temp).catch(() => undefined);
    }
    return { remoteId: name };
  }

  /** Makes the fully written temp file visible under its final name, atomically and without overwriting. */
  private async publish(temp: string, target: string): Promise<void> {
    try {
      await link(temp, target);
    } catch (err) {
      const code = errno(err);
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw err;
      // File systems without hard links: an exclusive copy still never overwrites.
      await copyFile(temp, target, fsConstants.COPYFILE_EXCL);
    }
  }

  revoke(): Promise<void> {
    return Promise.resolve();
  }
}
