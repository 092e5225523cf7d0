import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { isPinnedImage } from './dockerfile.util';
import { envKeyProblem, readRepoFile } from './repo.util';

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return --
   Manifests and compose files are untyped YAML. Each read either feeds a check that reports a problem when the
   shape is unexpected, or an assertion against a literal, so a wrong shape fails loudly instead of passing. */
type Json = any;

/** The Compose Specification JSON schema vendored from dclint@3.1.0 (docker/schemas/README.md). */
export function composeSchemaValidator(): (doc: unknown) => string[] {
  // The vendored file names its draft by an https URL Ajv does not know; the schema itself is plain draft-07.
  const { $schema: _draft, ...schema } = JSON.parse(readRepoFile('docker/schemas/compose-spec.schema.json')) as Record<
    string,
    unknown
  >;
  // strictTypes off: the upstream schema leaves `type` implicit next to object keywords, which is valid JSON Schema.
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, allowUnionTypes: true });
  addFormats(ajv);
  const validate = ajv.compile(schema);
  return (doc) => {
    if (validate(doc)) return [];
    return (validate.errors ?? []).map((e) => {
      const extra = e.keyword === 'additionalProperties' ? ` (${String(e.params.additionalProperty)})` : '';
      return `${e.instancePath || '/'}: ${e.message ?? e.keyword}${extra}`;
    });
  };
}

/** compose's `environment` as a map, whichever of its two spellings is used. */
export function environmentOf(service: Json): Record<string, string | undefined> {
  const env = service?.environment;
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry: string) => {
        const eq = entry.indexOf('=');
        return eq < 0 ? [entry, undefined] : [entry.slice(0, eq), entry.slice(eq + 1)];
      }),
    );
  }
  return Object.fromEntries(
    Object.entries(env ?? {}).map(([k, v]) => [
      k,
      ['string', 'number', 'boolean'].includes(typeof v) ? String(v as string | number | boolean) : undefined,
    ]),
  );
}

function secretNames(service: Json): string[] {
  return (service?.secrets ?? []).map((s: Json) => (typeof s === 'string' ? s : s?.source));
}

/** Services built from our Dockerfile (every hub role and the sandbox). */
export function appServices(doc: Json): string[] {
  return Object.entries(doc?.services ?? {})
    .filter(([, s]: [string, Json]) => s?.build !== undefined)
    .map(([name]) => name);
}

export const REQUIRED_HEALTHCHECKS = ['postgres', 'redis', 'web'];

export function checkCompose(doc: Json, entryPoints: Record<string, string>): string[] {
  const problems: string[] = [];
  const services: Record<string, Json> = doc?.services ?? {};
  const entries = Object.values(entryPoints);
  const apps = appServices(doc);
  if (apps.length === 0) problems.push('no service builds the Tributary image');

  for (const [name, s] of Object.entries(services)) {
    if (s?.image === undefined && s?.build === undefined) problems.push(`${name}: needs image or build`);
    if (typeof s?.image === 'string' && !isPinnedImage(s.image))
      problems.push(`${name}: image ${s.image} is not pinned`);
    for (const dep of Object.keys(s?.depends_on ?? {})) {
      const target = services[dep];
      if (target === undefined) problems.push(`${name}: depends on unknown service ${dep}`);
      else if (s.depends_on[dep]?.condition === 'service_healthy' && target.healthcheck === undefined) {
        problems.push(`${name}: waits for ${dep} to be healthy, but ${dep} has no healthcheck`);
      }
    }
    for (const secret of secretNames(s)) {
      if (doc?.secrets?.[secret] === undefined) problems.push(`${name}: secret ${secret} is not defined`);
    }
    for (const v of s?.volumes ?? []) {
      const source = typeof v === 'string' ? v.split(':')[0] : v?.source;
      if (typeof source === 'string' && !/^[./~]/.test(source) && doc?.volumes?.[source] === undefined) {
        problems.push(`${name}: named volume ${source} is not declared`);
      }
    }
    const hc = s?.healthcheck;
    if (
      hc !== undefined &&
      (hc.disable === true || !Array.isArray(hc.test) || !['CMD', 'CMD-SHELL'].includes(hc.test[0]))
    ) {
      problems.push(`${name}: healthcheck.test must be a CMD or CMD-SHELL array`);
    }
  }
  for (const name of REQUIRED_HEALTHCHECKS) {
    if (services[name] === undefined) problems.push(`service ${name} is missing`);
    else if (services[name].healthcheck === undefined) problems.push(`${name}: needs a healthcheck`);
  }

  const images = new Set(apps.map((n) => services[n]?.image));
  if (images.size !== 1 || images.has(undefined)) problems.push('every app service must use one shared image tag');
  for (const name of apps) {
    const s = services[name];
    if (s.build?.dockerfile !== 'docker/Dockerfile' || s.build?.context !== '..') {
      problems.push(`${name}: must build docker/Dockerfile with the repository root as context`);
    }
    const start: string[] = [...(s.entrypoint ?? []), ...(s.command ?? [])].filter(
      (a: string) => a !== '/usr/bin/tini' && a !== '--',
    );
    if (!Array.isArray(s.command) || (s.entrypoint !== undefined && !Array.isArray(s.entrypoint))) {
      problems.push(`${name}: command/entrypoint must be exec-form arrays`);
    }
    if (start[0] !== 'node' || !entries.includes(start[1] ?? '')) {
      problems.push(`${name}: must start node with a built entry point (${entries.join(', ')})`);
    }
    if (s.user !== undefined && ['0', 'root'].includes(String(s.user).split(':')[0] ?? '')) {
      problems.push(`${name}: runs as root`);
    }
    const env = environmentOf(s);
    for (const [key, value] of Object.entries(env)) {
      const p = envKeyProblem(key);
      if (p !== undefined) problems.push(`${name}: ${p}`);
      if (key.endsWith('_FILE')) {
        const m = /^\/run\/secrets\/([^/]+)$/.exec(value ?? '');
        if (m === null) problems.push(`${name}: ${key} must point at /run/secrets/<name>`);
        else if (!secretNames(s).includes(m[1] ?? ''))
          problems.push(`${name}: ${key} reads secret ${m[1]}, not granted to it`);
      }
    }
  }
  for (const [secret, def] of Object.entries((doc?.secrets ?? {}) as Record<string, Json>)) {
    if (typeof def?.file !== 'string' || !def.file.startsWith('./secrets/')) {
      problems.push(`secret ${secret}: must be a file under docker/secrets/ (git-ignored)`);
    }
    if (!Object.values(services).some((s) => secretNames(s).includes(secret)))
      problems.push(`secret ${secret}: unused`);
  }
  return problems;
}

/** Host:container pairs of a service's published ports. */
export function publishedPorts(service: Json): { host: number; container: number }[] {
  return (service?.ports ?? []).map((p: Json) => {
    if (typeof p === 'object') return { host: Number(p.published), container: Number(p.target) };
    const parts = String(p).split(':');
    return { host: Number(parts[parts.length - 2]), container: Number(parts[parts.length - 1]) };
  });
}
