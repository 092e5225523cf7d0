import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_PREFIXES, SECRET_KEYS, envSchema } from '@tributary/config';
import { parseAllDocuments, parse } from 'yaml';

export const REPO_ROOT = path.resolve(__dirname, '../../../..');

export function repoPath(...segments: string[]): string {
  return path.join(REPO_ROOT, ...segments);
}

export function readRepoFile(...segments: string[]): string {
  return readFileSync(repoPath(...segments), 'utf8');
}

/** YAML the way compose reads it: merge keys (`<<: *anchor`) on, duplicate keys an error. */
export function parseYaml(text: string): unknown {
  return parse(text, { merge: true, uniqueKeys: true, prettyErrors: true });
}

/** Every document of a multi-document file; a syntax error in any of them throws. */
export function parseYamlDocuments(text: string, source: string): unknown[] {
  return parseAllDocuments(text, { merge: true, uniqueKeys: true }).flatMap((doc) => {
    if (doc.errors.length > 0) {
      throw new SyntaxError(`${source}: ${doc.errors.map((e) => e.message).join('; ')}`);
    }
    const value: unknown = doc.toJS();
    return value === null || value === undefined ? [] : [value];
  });
}

const KNOWN_KEYS: ReadonlySet<string> = new Set(Object.keys(envSchema.shape));
const SECRET_SET: ReadonlySet<string> = new Set(SECRET_KEYS);

/**
 * Why an environment variable name would not be accepted by libs/config (undefined when it is fine). Mirrors
 * loadConfig: known keys, `<SECRET>_FILE` for secret keys; anything else in our prefixes is rejected at boot.
 */
export function envKeyProblem(name: string): string | undefined {
  if (KNOWN_KEYS.has(name)) return undefined;
  if (name.endsWith('_FILE')) {
    const base = name.slice(0, -'_FILE'.length);
    return SECRET_SET.has(base) ? undefined : `${name}: ${base} is not a secret key, so it cannot be read from a file`;
  }
  const inNamespace = CONFIG_PREFIXES.some((p) => name.startsWith(p));
  return `${name}: not a configuration key${inNamespace ? ' (the config loader rejects it at boot)' : ''}`;
}

export function isSecretKey(name: string): boolean {
  return SECRET_SET.has(name);
}

interface NestProject {
  type: string;
  root: string;
  sourceRoot: string;
  entryFile: string;
  compilerOptions?: { tsConfigPath?: string };
}

/**
 * Where `npm run build` puts each app's entry point, derived from nest-cli.json and the app's tsconfig (outDir and
 * rootDir), so a change to the build layout breaks these tests instead of the containers.
 */
export function builtEntryPoints(): Record<string, string> {
  const nest = JSON.parse(readRepoFile('nest-cli.json')) as { projects: Record<string, NestProject> };
  const buildScript = (JSON.parse(readRepoFile('package.json')) as { scripts: Record<string, string> }).scripts.build;
  const entries: Record<string, string> = {};
  for (const [name, project] of Object.entries(nest.projects)) {
    if (project.type !== 'application' || !buildScript?.split('&&').some((c) => c.trim() === `nest build ${name}`)) {
      continue;
    }
    const tsconfigPath = project.compilerOptions?.tsConfigPath ?? 'tsconfig.build.json';
    const tsconfig = JSON.parse(readRepoFile(tsconfigPath)) as { compilerOptions: { outDir: string; rootDir: string } };
    const dir = path.dirname(repoPath(tsconfigPath));
    const outDir = path.resolve(dir, tsconfig.compilerOptions.outDir);
    const rootDir = path.resolve(dir, tsconfig.compilerOptions.rootDir);
    const source = path.join(REPO_ROOT, project.sourceRoot, `${project.entryFile}.js`);
    entries[name] = path
      .relative(REPO_ROOT, path.join(outDir, path.relative(rootDir, source)))
      .split(path.sep)
      .join('/');
  }
  return entries;
}
