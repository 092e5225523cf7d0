import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseYamlDocuments } from './repo.util';

/**
 * Renders our kustomizations without the kustomize binary. It implements exactly the subset k8s/ uses — resources,
 * components, namespace, images, JSON 6902 patches with a target, and `$patch: delete` strategic-merge patches — and
 * refuses any other field, so a kustomization cannot quietly use a feature these tests would render wrongly.
 */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
}

interface Kustomization {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  resources?: string[];
  components?: string[];
  images?: { name: string; newName?: string; newTag?: string; digest?: string }[];
  patches?: { path?: string; patch?: string; target?: { kind?: string; name?: string } }[];
}

const ALLOWED_FIELDS = new Set(['apiVersion', 'kind', 'namespace', 'resources', 'components', 'images', 'patches']);
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PersistentVolume', 'StorageClass']);

export class KustomizeError extends Error {}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asK8sObject(value: unknown, source: string): K8sObject {
  if (!isObject(value) || typeof value.apiVersion !== 'string' || typeof value.kind !== 'string') {
    throw new KustomizeError(`${source}: a resource needs apiVersion and kind`);
  }
  const metadata = value.metadata;
  if (!isObject(metadata) || typeof metadata.name !== 'string') {
    throw new KustomizeError(`${source}: ${value.kind} needs metadata.name`);
  }
  return value as K8sObject;
}

function loadKustomization(dir: string, expectedKind: 'Kustomization' | 'Component'): Kustomization {
  const file = path.join(dir, 'kustomization.yaml');
  if (!existsSync(file)) throw new KustomizeError(`${dir}: no kustomization.yaml`);
  const [doc] = parseYamlDocuments(readFileSync(file, 'utf8'), file);
  if (!isObject(doc)) throw new KustomizeError(`${file}: not a mapping`);
  const unknown = Object.keys(doc).filter((k) => !ALLOWED_FIELDS.has(k));
  if (unknown.length > 0)
    throw new KustomizeError(`${file}: fields this renderer does not implement: ${unknown.join(', ')}`);
  const kind = doc.kind ?? 'Kustomization';
  if (kind !== expectedKind)
    throw new KustomizeError(`${file}: expected kind ${expectedKind}, found ${JSON.stringify(kind)}`);
  const apiVersion =
    expectedKind === 'Component' ? 'kustomize.config.k8s.io/v1alpha1' : 'kustomize.config.k8s.io/v1beta1';
  if (doc.apiVersion !== apiVersion) throw new KustomizeError(`${file}: apiVersion must be ${apiVersion}`);
  return doc;
}

/** RFC 6901 pointer → parent container and final key. */
function resolvePointer(root: unknown, pointer: string): { parent: unknown; key: string } {
  const parts = pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const key = parts.pop();
  if (key === undefined) throw new KustomizeError(`patch path ${pointer} is empty`);
  let parent: unknown = root;
  for (const part of parts) {
    parent = Array.isArray(parent) ? parent[Number(part)] : isObject(parent) ? parent[part] : undefined;
    if (parent === undefined) throw new KustomizeError(`patch path ${pointer}: ${part} does not exist`);
  }
  return { parent, key };
}

function applyJsonPatch(target: K8sObject, ops: unknown, source: string): void {
  if (!Array.isArray(ops)) throw new KustomizeError(`${source}: a JSON 6902 patch is a list of operations`);
  for (const op of ops) {
    if (!isObject(op) || typeof op.path !== 'string') throw new KustomizeError(`${source}: malformed operation`);
    const { parent, key } = resolvePointer(target, op.path);
    const exists = Array.isArray(parent) ? Number(key) < parent.length : isObject(parent) && key in parent;
    switch (op.op) {
      case 'add':
        if (Array.isArray(parent)) parent.splice(key === '-' ? parent.length : Number(key), 0, op.value);
        else if (isObject(parent)) parent[key] = op.value;
        break;
      case 'replace':
        if (!exists) throw new KustomizeError(`${source}: replace ${op.path}: nothing there to replace`);
        if (Array.isArray(parent)) parent[Number(key)] = op.value;
        else if (isObject(parent)) parent[key] = op.value;
        break;
      case 'remove':
        if (!exists) throw new KustomizeError(`${source}: remove ${op.path}: nothing there to remove`);
        if (Array.isArray(parent)) parent.splice(Number(key), 1);
        else if (isObject(parent)) delete parent[key];
        break;
      default:
        throw new KustomizeError(`${source}: operation ${String(op.op)} is not implemented`);
    }
  }
}

function applyPatches(dir: string, k: Kustomization, objects: K8sObject[]): K8sObject[] {
  let result = objects;
  for (const [index, p] of (k.patches ?? []).entries()) {
    const source = `${dir} patch #${index + 1}`;
    const text = p.patch ?? (p.path !== undefined ? readFileSync(path.join(dir, p.path), 'utf8') : undefined);
    if (text === undefined) throw new KustomizeError(`${source}: needs patch or path`);
    const [body] = parseYamlDocuments(text, source);
    if (Array.isArray(body)) {
      const matches = result.filter(
        (o) =>
          (p.target?.kind === undefined || o.kind === p.target.kind) &&
          (p.target?.name === undefined || o.metadata.name === p.target.name),
      );
      if (p.target === undefined || matches.length === 0) throw new KustomizeError(`${source}: target matches nothing`);
      for (const o of matches) applyJsonPatch(o, body, source);
    } else if (isObject(body) && body.$patch === 'delete') {
      const victim = asK8sObject(body, source);
      const before = result.length;
      result = result.filter((o) => !(o.kind === victim.kind && o.metadata.name === victim.metadata.name));
      if (result.length === before)
        throw new KustomizeError(`${source}: deletes ${victim.kind}/${victim.metadata.name}, which is not there`);
    } else {
      throw new KustomizeError(`${source}: only JSON 6902 and $patch: delete patches are implemented`);
    }
  }
  return result;
}

function setImages(objects: K8sObject[], images: NonNullable<Kustomization['images']>): void {
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (isObject(node)) {
      for (const [key, value] of Object.entries(node)) {
        if ((key === 'containers' || key === 'initContainers') && Array.isArray(value)) {
          for (const c of value) {
            if (!isObject(c) || typeof c.image !== 'string') continue;
            const [name] = c.image.split(/[:@]/);
            const rule = images.find((i) => i.name === name);
            if (rule === undefined) continue;
            const tag =
              rule.digest !== undefined ? `@${rule.digest}` : `:${rule.newTag ?? c.image.split(':')[1] ?? ''}`;
            c.image = `${rule.newName ?? rule.name}${tag}`;
          }
        }
        visit(value);
      }
    }
  };
  visit(objects);
}

function render(dir: string, kind: 'Kustomization' | 'Component', inherited: K8sObject[]): K8sObject[] {
  const k = loadKustomization(dir, kind);
  let objects = [...inherited];
  for (const entry of k.resources ?? []) {
    const full = path.resolve(dir, entry);
    if (!existsSync(full)) throw new KustomizeError(`${dir}: resource ${entry} does not exist`);
    if (statSync(full).isDirectory()) objects.push(...render(full, 'Kustomization', []));
    else {
      objects.push(...parseYamlDocuments(readFileSync(full, 'utf8'), full).map((d) => asK8sObject(d, full)));
    }
  }
  for (const entry of k.components ?? []) objects = render(path.resolve(dir, entry), 'Component', objects);
  objects = applyPatches(dir, k, objects);
  if (k.images !== undefined) setImages(objects, k.images);
  if (k.namespace !== undefined) {
    for (const o of objects) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;
  }
  const seen = new Set<string>();
  for (const o of objects) {
    const id = `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    if (seen.has(id)) throw new KustomizeError(`${dir}: ${id} is defined twice`);
    seen.add(id);
  }
  return objects;
}

/** The objects `kubectl apply -k <dir>` would send, in a fresh copy per call. */
export function renderKustomization(dir: string): K8sObject[] {
  return render(dir, 'Kustomization', []);
}
