import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { isPinnedImage } from './dockerfile.util';
import type { K8sObject } from './kustomize.util';
import { envKeyProblem, isSecretKey, readRepoFile } from './repo.util';

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return --
   Manifests and compose files are untyped YAML. Each read either feeds a check that reports a problem when the
   shape is unexpected, or an assertion against a literal, so a wrong shape fails loudly instead of passing. */
type Json = any;

export const SECRET_MOUNT = '/run/secrets/tributary';

function id(o: K8sObject): string {
  return `${o.kind}/${o.metadata.name}`;
}

function isSubset(sub: Record<string, string> | undefined, sup: Record<string, string> | undefined): boolean {
  if (sub === undefined || Object.keys(sub).length === 0) return false;
  return Object.entries(sub).every(([k, v]) => sup?.[k] === v);
}

export interface PodOwner {
  owner: K8sObject;
  pod: Json;
  labels: Record<string, string>;
}

/** Deployments and Jobs with their pod templates. */
export function podOwners(objects: K8sObject[]): PodOwner[] {
  return objects
    .filter((o) => o.kind === 'Deployment' || o.kind === 'Job')
    .map((o) => {
      const template = (o as Json).spec?.template ?? {};
      return { owner: o, pod: template.spec ?? {}, labels: template.metadata?.labels ?? {} };
    });
}

/** Validator per `apiVersion/kind` from the vendored strict Kubernetes v1.27 schemas. */
export class KubernetesSchemas {
  private readonly ajv = new Ajv({ allErrors: true, strict: true });
  private readonly kinds: Record<string, string>;
  private readonly cache = new Map<string, ValidateFunction>();

  constructor() {
    addFormats(this.ajv);
    this.ajv.addFormat('int32', {
      type: 'number',
      validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 31,
    });
    this.ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
    this.ajv.addFormat('double', { type: 'number', validate: (n: number) => Number.isFinite(n) });
    this.ajv.addSchema(JSON.parse(readRepoFile('k8s/schemas/kubernetes-v1.27-strict.json')) as object);
    this.kinds = JSON.parse(readRepoFile('k8s/schemas/kinds.json')) as Record<string, string>;
  }

  knows(o: K8sObject): boolean {
    return `${o.apiVersion}/${o.kind}` in this.kinds;
  }

  validate(o: K8sObject): string[] {
    const definition = this.kinds[`${o.apiVersion}/${o.kind}`];
    if (definition === undefined) return [`${id(o)}: no schema for ${o.apiVersion} ${o.kind}`];
    let fn = this.cache.get(definition);
    if (fn === undefined) {
      fn = this.ajv.getSchema(`kubernetes-v1.27-strict.json#/definitions/${definition}`);
      if (fn === undefined) return [`${id(o)}: schema ${definition} missing from the vendored file`];
      this.cache.set(definition, fn);
    }
    if (fn(o)) return [];
    return (fn.errors ?? []).map((e) => {
      const extra = e.keyword === 'additionalProperties' ? ` (${String(e.params.additionalProperty)})` : '';
      return `${id(o)}${e.instancePath}: ${e.message ?? e.keyword}${extra}`;
    });
  }
}

/** KEDA's CRD schema ships with KEDA, not with Kubernetes: check the fields this project relies on explicitly. */
export function checkScaledObjects(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const o of objects.filter((x) => x.kind === 'ScaledObject')) {
    const spec = (o as Json).spec ?? {};
    if (o.apiVersion !== 'keda.sh/v1alpha1') problems.push(`${id(o)}: apiVersion must be keda.sh/v1alpha1`);
    const allowed = [
      'scaleTargetRef',
      'minReplicaCount',
      'maxReplicaCount',
      'pollingInterval',
      'cooldownPeriod',
      'triggers',
    ];
    for (const key of Object.keys(spec)) if (!allowed.includes(key)) problems.push(`${id(o)}: unexpected spec.${key}`);
    for (const key of ['minReplicaCount', 'maxReplicaCount', 'pollingInterval', 'cooldownPeriod']) {
      if (!Number.isInteger(spec[key])) problems.push(`${id(o)}: spec.${key} must be an integer`);
    }
    if (!(spec.minReplicaCount >= 1 && spec.maxReplicaCount >= spec.minReplicaCount)) {
      problems.push(`${id(o)}: needs 1 <= minReplicaCount <= maxReplicaCount`);
    }
    const triggers: Json[] = Array.isArray(spec.triggers) ? spec.triggers : [];
    if (triggers.length === 0) problems.push(`${id(o)}: no triggers`);
    for (const t of triggers) {
      const md = t?.metadata ?? {};
      if (t?.type !== 'prometheus') problems.push(`${id(o)}: trigger type ${String(t?.type)} is not prometheus`);
      if (!/^https?:\/\//.test(String(md.serverAddress))) problems.push(`${id(o)}: trigger needs a serverAddress URL`);
      if (!/tributary_queue_waiting\{[^}]*queue="sync"/.test(String(md.query))) {
        problems.push(`${id(o)}: trigger query must read tributary_queue_waiting for queue="sync"`);
      }
      // KEDA's trigger metadata is map[string]string: a YAML number here is rejected by the CRD.
      for (const [k, v] of Object.entries(md))
        if (typeof v !== 'string') problems.push(`${id(o)}: metadata.${k} must be a string`);
    }
  }
  return problems;
}

/** Every kind the project is allowed to ship, each either schema-validated or explicitly checked above. */
export function checkKindsCovered(objects: K8sObject[], schemas: KubernetesSchemas): string[] {
  return objects
    .filter((o) => !schemas.knows(o) && !(o.kind === 'ScaledObject' && o.apiVersion === 'keda.sh/v1alpha1'))
    .map((o) => `${id(o)}: ${o.apiVersion} ${o.kind} is neither in the vendored schemas nor explicitly checked`);
}

/** Labels, selectors, ports and references between objects. */
export function checkReferences(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const byKind = (kind: string) => objects.filter((o) => o.kind === kind) as Json[];
  const owners = podOwners(objects);
  const deployments = byKind('Deployment');

  for (const o of objects) {
    if (o.metadata.labels?.['app.kubernetes.io/part-of'] !== 'tributary') {
      problems.push(`${id(o)}: missing label app.kubernetes.io/part-of=tributary`);
    }
  }
  for (const d of deployments) {
    if (!isSubset(d.spec?.selector?.matchLabels, d.spec?.template?.metadata?.labels)) {
      problems.push(`${id(d)}: selector.matchLabels is not a subset of the pod template labels`);
    }
  }
  // Two Deployments whose selectors overlap would fight over the same pods.
  for (const a of deployments) {
    for (const b of deployments) {
      if (a !== b && isSubset(a.spec?.selector?.matchLabels, b.spec?.template?.metadata?.labels)) {
        problems.push(`${id(a)}: its selector also matches the pods of ${id(b)}`);
      }
    }
  }
  const portsOf = (owner: PodOwner) =>
    (owner.pod.containers ?? []).flatMap((c: Json) => (c.ports ?? []) as { name?: string; containerPort: number }[]);
  const portMatches = (ports: { name?: string; containerPort: number }[], ref: unknown) =>
    ports.some((p) => (typeof ref === 'string' ? p.name === ref : p.containerPort === ref));

  const services = byKind('Service');
  for (const s of services) {
    const selected = owners.filter((w) => isSubset(s.spec?.selector, w.labels));
    if (selected.length === 0) problems.push(`${id(s)}: selector matches no pod template`);
    for (const p of s.spec?.ports ?? []) {
      for (const w of selected) {
        if (!portMatches(portsOf(w), p.targetPort ?? p.port)) {
          problems.push(`${id(s)}: targetPort ${String(p.targetPort)} is not a container port of ${id(w.owner)}`);
        }
      }
    }
  }
  for (const ing of byKind('Ingress')) {
    for (const rule of ing.spec?.rules ?? []) {
      for (const p of rule.http?.paths ?? []) {
        const backend = p.backend?.service;
        const svc = services.find((s) => s.metadata.name === backend?.name);
        if (svc === undefined) problems.push(`${id(ing)}: backend service ${String(backend?.name)} does not exist`);
        else if (
          !(svc.spec?.ports ?? []).some(
            (sp: Json) => sp.name === backend.port?.name || sp.port === backend.port?.number,
          )
        ) {
          problems.push(`${id(ing)}: backend port is not a port of ${id(svc)}`);
        }
      }
    }
    const hosts = (ing.spec?.rules ?? []).map((r: Json) => r.host);
    const tlsHosts = (ing.spec?.tls ?? []).flatMap((t: Json) => t.hosts ?? []);
    for (const h of hosts) if (!tlsHosts.includes(h)) problems.push(`${id(ing)}: host ${String(h)} has no TLS`);
  }
  for (const scaler of [...byKind('HorizontalPodAutoscaler'), ...byKind('ScaledObject')]) {
    const ref = scaler.spec?.scaleTargetRef;
    const target = deployments.find((d) => d.metadata.name === ref?.name);
    if (target === undefined || (ref.kind !== undefined && ref.kind !== 'Deployment')) {
      problems.push(`${id(scaler)}: scaleTargetRef ${String(ref?.name)} is not a Deployment here`);
    } else if (target.spec?.replicas !== undefined) {
      problems.push(`${id(target)}: sets replicas although ${id(scaler)} owns the count (every apply would reset it)`);
    }
  }
  const scaled = [...byKind('HorizontalPodAutoscaler'), ...byKind('ScaledObject')].map(
    (s) => s.spec?.scaleTargetRef?.name,
  );
  const dupes = scaled.filter((n, i) => scaled.indexOf(n) !== i);
  for (const n of new Set(dupes)) problems.push(`Deployment/${String(n)}: more than one autoscaler targets it`);

  for (const pdb of byKind('PodDisruptionBudget')) {
    const selected = deployments.filter((d) =>
      isSubset(pdb.spec?.selector?.matchLabels, d.spec?.template?.metadata?.labels),
    );
    if (selected.length === 0) problems.push(`${id(pdb)}: selector matches no Deployment`);
    for (const d of selected) {
      if (d.spec?.replicas === 1) problems.push(`${id(pdb)}: on single-replica ${id(d)} it would block node drains`);
    }
  }
  for (const np of byKind('NetworkPolicy')) {
    const selected = owners.filter((w) => isSubset(np.spec?.podSelector?.matchLabels, w.labels));
    if (selected.length === 0) problems.push(`${id(np)}: podSelector matches no pod template`);
    for (const rule of np.spec?.ingress ?? []) {
      for (const p of rule.ports ?? []) {
        for (const w of selected.filter((x) => portsOf(x).length > 0)) {
          if (!portMatches(portsOf(w), p.port))
            problems.push(`${id(np)}: port ${String(p.port)} is not open on ${id(w.owner)}`);
        }
      }
    }
  }
  for (const w of owners) {
    const sa = w.pod.serviceAccountName;
    const account = byKind('ServiceAccount').find((a) => a.metadata.name === sa);
    if (account === undefined) problems.push(`${id(w.owner)}: serviceAccountName ${String(sa)} does not exist`);
    else if (account.automountServiceAccountToken !== false) {
      problems.push(`${id(account)}: automountServiceAccountToken must be false`);
    }
  }
  return problems;
}

const PROBES: Record<string, string> = { livenessProbe: '/health/live', readinessProbe: '/health/ready' };

/**
 * Pod hardening, resources, probes, images, start commands and environment. `entryPoints` maps app name to the
 * built entry file; `secretKeys` are the keys of the example Secret.
 */
export function checkPods(objects: K8sObject[], entryPoints: Record<string, string>, secretKeys: string[]): string[] {
  const problems: string[] = [];
  const configMaps = objects.filter((o) => o.kind === 'ConfigMap') as Json[];
  const entries = Object.values(entryPoints);

  for (const { owner, pod } of podOwners(objects)) {
    const where = id(owner);
    const longRunning = owner.kind === 'Deployment';
    if (pod.enableServiceLinks !== false) {
      problems.push(
        `${where}: enableServiceLinks must be false (service env vars like REDIS_PORT fail config validation)`,
      );
    }
    if (pod.automountServiceAccountToken !== false)
      problems.push(`${where}: automountServiceAccountToken must be false`);
    const psc = pod.securityContext ?? {};
    if (psc.runAsNonRoot !== true) problems.push(`${where}: securityContext.runAsNonRoot must be true`);
    if (!(Number.isInteger(psc.runAsUser) && psc.runAsUser > 0))
      problems.push(`${where}: runAsUser must be a non-zero uid`);
    if (psc.seccompProfile?.type !== 'RuntimeDefault') problems.push(`${where}: seccompProfile must be RuntimeDefault`);
    if (pod.initContainers !== undefined)
      problems.push(`${where}: init containers are not checked here; add checks first`);
    const volumes: Json[] = pod.volumes ?? [];

    for (const c of pod.containers ?? []) {
      const at = `${where} container ${String(c.name)}`;
      if (typeof c.image !== 'string' || !isPinnedImage(c.image))
        problems.push(`${at}: image ${String(c.image)} is not pinned`);
      if (c.command !== undefined)
        problems.push(`${at}: sets command, which replaces the image's tini entrypoint; use args`);
      const args: string[] = c.args ?? [];
      if (args[0] !== 'node' || !entries.includes(args[1] ?? '')) {
        problems.push(`${at}: args must start with node <built entry>, one of ${entries.join(', ')}`);
      }
      for (const kind of ['requests', 'limits']) {
        for (const r of ['cpu', 'memory']) {
          if (c.resources?.[kind]?.[r] === undefined) problems.push(`${at}: resources.${kind}.${r} is missing`);
        }
      }
      const sc = c.securityContext ?? {};
      if (sc.allowPrivilegeEscalation !== false) problems.push(`${at}: allowPrivilegeEscalation must be false`);
      if (sc.readOnlyRootFilesystem !== true) problems.push(`${at}: readOnlyRootFilesystem must be true`);
      if (JSON.stringify(sc.capabilities?.drop) !== '["ALL"]') problems.push(`${at}: capabilities.drop must be [ALL]`);
      if (sc.runAsUser === 0 || sc.privileged === true) problems.push(`${at}: runs as root or privileged`);

      if (longRunning) {
        for (const [probe, path] of Object.entries(PROBES)) {
          const get = c[probe]?.httpGet;
          if (get?.path !== path) problems.push(`${at}: ${probe} must GET ${path}`);
          else if (!(c.ports ?? []).some((p: Json) => p.name === get.port || p.containerPort === get.port)) {
            problems.push(`${at}: ${probe} port ${String(get.port)} is not a container port`);
          }
        }
        if (c.startupProbe !== undefined && c.startupProbe.httpGet?.path !== '/health/live') {
          problems.push(`${at}: startupProbe must GET /health/live`);
        }
      }

      for (const m of c.volumeMounts ?? []) {
        if (!volumes.some((v) => v.name === m.name)) problems.push(`${at}: mounts undefined volume ${String(m.name)}`);
      }
      for (const ref of c.envFrom ?? []) {
        const name = ref.configMapRef?.name;
        const cm = configMaps.find((x) => x.metadata.name === name);
        if (ref.secretRef !== undefined) problems.push(`${at}: secrets come as files through *_FILE, not envFrom`);
        if (cm === undefined) problems.push(`${at}: envFrom ConfigMap ${String(name)} does not exist`);
      }
      for (const e of c.env ?? []) {
        const p = envKeyProblem(e.name);
        if (p !== undefined) problems.push(`${at}: ${p}`);
        if (e.valueFrom?.secretKeyRef !== undefined)
          problems.push(`${at}: ${String(e.name)} reads a secret into env; use a file`);
        if (isSecretKey(e.name) && e.value !== undefined)
          problems.push(`${at}: ${String(e.name)} is a secret given inline`);
        if (typeof e.name === 'string' && e.name.endsWith('_FILE')) {
          problems.push(...checkSecretFile(at, e.name, String(e.value), c.volumeMounts ?? [], volumes, secretKeys));
        }
      }
    }
  }
  return problems;
}

function checkSecretFile(
  at: string,
  name: string,
  value: string,
  mounts: Json[],
  volumes: Json[],
  keys: string[],
): string[] {
  const key = name.slice(0, -'_FILE'.length);
  const mount = mounts.find((m) => value.startsWith(`${String(m.mountPath)}/`));
  if (mount === undefined) return [`${at}: ${name}=${value} is not inside any volume mount`];
  if (mount.readOnly !== true) return [`${at}: the secret mount ${String(mount.mountPath)} must be readOnly`];
  const secret = volumes.find((v) => v.name === mount.name)?.secret;
  if (secret === undefined) return [`${at}: ${name} points into a volume that is not a Secret`];
  const file = value.slice(String(mount.mountPath).length + 1);
  const item = (secret.items as Json[] | undefined)?.find((i) => i.path === file);
  const secretKey: unknown = secret.items === undefined ? file : item?.key;
  if (secretKey === undefined) return [`${at}: ${name}: the Secret volume projects no file ${file}`];
  if (secretKey !== key) return [`${at}: ${name} reads Secret key ${JSON.stringify(secretKey)}, expected ${key}`];
  if (!keys.includes(key)) return [`${at}: ${name}: the Secret has no key ${key}`];
  return [];
}

/** ConfigMaps feed envFrom: every key must be a configuration key, and none may be a secret. */
export function checkConfigMaps(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const cm of objects.filter((o) => o.kind === 'ConfigMap') as Json[]) {
    for (const [key, value] of Object.entries(cm.data ?? {})) {
      const p = envKeyProblem(key);
      if (p !== undefined) problems.push(`${id(cm)}: ${p}`);
      if (isSecretKey(key)) problems.push(`${id(cm)}: ${key} is a secret; put it in the Secret and use ${key}_FILE`);
      if (key === 'WORKER_ROLES') problems.push(`${id(cm)}: WORKER_ROLES is per Deployment, not shared`);
      if (typeof value !== 'string') problems.push(`${id(cm)}: ${key} must be a string (quote it)`);
    }
  }
  return problems;
}

/** The worker topology: horizontally scaled sync workers and exactly one watchdog/stats/scheduler pod. */
export function checkWorkerRoles(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const rolesOf = (o: Json): string[] | undefined => {
    const env = (o.spec?.template?.spec?.containers ?? []).flatMap((c: Json) => c.env ?? []);
    const value = env.find((e: Json) => e.name === 'WORKER_ROLES')?.value;
    return typeof value === 'string' ? value.split(',').map((r: string) => r.trim()) : undefined;
  };
  const workers = (objects.filter((o) => o.kind === 'Deployment') as Json[]).filter((d) => rolesOf(d) !== undefined);
  for (const role of ['sync', 'watchdog', 'stats', 'scheduler']) {
    const running = workers.filter((d) => rolesOf(d)?.includes(role));
    if (running.length !== 1) problems.push(`role ${role} runs in ${running.length} Deployments, expected 1`);
  }
  for (const d of workers) {
    const roles = rolesOf(d) ?? [];
    const singleton = roles.some((r) => r !== 'sync');
    if (singleton && roles.includes('sync')) problems.push(`${id(d)}: mixes sync with singleton roles`);
    if (singleton && d.spec?.replicas !== 1) problems.push(`${id(d)}: singleton roles need replicas: 1`);
    if (singleton && d.spec?.strategy?.type !== 'Recreate')
      problems.push(`${id(d)}: singleton roles need strategy Recreate`);
    if (
      singleton &&
      objects.some(
        (o) => o.kind === 'HorizontalPodAutoscaler' && (o as Json).spec?.scaleTargetRef?.name === d.metadata.name,
      )
    ) {
      problems.push(`${id(d)}: a singleton must not be autoscaled`);
    }
  }
  return problems;
}

/** The sync workers scale on queue depth: an External metric HPA or a KEDA ScaledObject, never CPU. */
export function checkQueueScaling(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const sync = (objects as Json[]).find(
    (d) => d.kind === 'Deployment' && d.metadata.labels?.['app.kubernetes.io/component'] === 'worker-sync',
  );
  if (sync === undefined) return ['no sync worker Deployment'];
  const hpa = (objects as Json[]).find(
    (o) => o.kind === 'HorizontalPodAutoscaler' && o.spec?.scaleTargetRef?.name === sync.metadata.name,
  );
  const keda = (objects as Json[]).find(
    (o) => o.kind === 'ScaledObject' && o.spec?.scaleTargetRef?.name === sync.metadata.name,
  );
  if (hpa === undefined && keda === undefined) problems.push(`${id(sync)}: nothing scales it on queue depth`);
  if (hpa !== undefined) {
    const metrics: Json[] = hpa.spec?.metrics ?? [];
    const external = metrics.find((m) => m.type === 'External')?.external;
    if (metrics.length !== 1 || external === undefined)
      problems.push(`${id(hpa)}: must scale on one External metric only`);
    else {
      if (external.metric?.name !== 'tributary_queue_waiting')
        problems.push(`${id(hpa)}: metric must be tributary_queue_waiting`);
      if (external.metric?.selector?.matchLabels?.queue !== 'sync')
        problems.push(`${id(hpa)}: metric selector must be queue=sync`);
      if (external.target?.type !== 'AverageValue') problems.push(`${id(hpa)}: target must be an AverageValue per pod`);
    }
  }
  const web = (objects as Json[]).find(
    (o) => o.kind === 'HorizontalPodAutoscaler' && o.spec?.scaleTargetRef?.name === 'tributary-web',
  );
  const cpu = (web?.spec?.metrics ?? []).find((m: Json) => m.type === 'Resource' && m.resource?.name === 'cpu');
  if (cpu === undefined) problems.push('the web Deployment has no CPU HorizontalPodAutoscaler');
  return problems;
}
