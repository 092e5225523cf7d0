import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '@tributary/config';
import {
  KubernetesSchemas,
  SECRET_MOUNT,
  checkConfigMaps,
  checkKindsCovered,
  checkPods,
  checkQueueScaling,
  checkReferences,
  checkScaledObjects,
  checkWorkerRoles,
  podOwners,
} from './support/k8s-checks.util';
import { KustomizeError, renderKustomization, type K8sObject } from './support/kustomize.util';
import { builtEntryPoints, parseYamlDocuments, readRepoFile, repoPath } from './support/repo.util';

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return --
   Manifests and compose files are untyped YAML. Each read either feeds a check that reports a problem when the
   shape is unexpected, or an assertion against a literal, so a wrong shape fails loudly instead of passing. */
type Json = any;

// No cluster and no kustomize binary here: the kustomizations are rendered by a strict subset renderer, every object
// is validated against the vendored strict Kubernetes v1.27 schemas, and the cross-object rules are checked.
const KUSTOMIZATIONS = ['k8s/base', 'k8s/overlays/production', 'k8s/overlays/production-keda'];
const schemas = new KubernetesSchemas();
const entryPoints = builtEntryPoints();
const exampleSecret = parseYamlDocuments(readRepoFile('k8s/examples/secret.yaml'), 'secret.yaml')[0] as Json;
const secretKeys = Object.keys(exampleSecret.stringData as object);

const find = (objects: K8sObject[], kind: string, name: string): Json => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (found === undefined) throw new KustomizeError(`${kind}/${name} not rendered`);
  return found;
};

/** Every check on one rendered set; empty when all hold. */
function allProblems(objects: K8sObject[]): string[] {
  return [
    ...objects.filter((o) => schemas.knows(o)).flatMap((o) => schemas.validate(o)),
    ...checkKindsCovered(objects, schemas),
    ...checkScaledObjects(objects),
    ...checkReferences(objects),
    ...checkPods(objects, entryPoints, secretKeys),
    ...checkConfigMaps(objects),
    ...checkWorkerRoles(objects),
    ...checkQueueScaling(objects),
  ];
}

/** Valid stand-ins for the example Secret's placeholders, so loadConfig can run on each container's environment. */
const SECRET_VALUES: Record<string, string> = {
  DATABASE_URL: 'postgres://tributary:pw@db.internal:5432/tributary',
  REDIS_URL: 'redis://redis.internal:6379',
  TRIBUTARY_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 5).toString('base64')}`,
  SESSION_SECRET: 'x'.repeat(40),
};

/** The environment the container's process would see: ConfigMap, env, and *_FILE paths remapped into `dir`. */
function containerEnv(objects: K8sObject[], container: Json, dir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const ref of container.envFrom ?? []) Object.assign(env, find(objects, 'ConfigMap', ref.configMapRef.name).data);
  for (const e of container.env ?? []) {
    const value = String(e.value);
    if (String(e.name).endsWith('_FILE') && value.startsWith(`${SECRET_MOUNT}/`)) {
      const key = path.basename(value);
      const file = path.join(dir, key);
      writeFileSync(file, `${SECRET_VALUES[key] ?? ''}\n`);
      env[e.name] = file;
    } else env[e.name] = value;
  }
  return env;
}

describe.each(KUSTOMIZATIONS)('%s', (dir) => {
  let sut: K8sObject[];

  beforeAll(() => {
    sut = renderKustomization(repoPath(dir));
  });

  it('should render the expected objects', () => {
    const ids = sut.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(ids).toEqual(
      expect.arrayContaining([
        'Namespace/tributary',
        'ServiceAccount/tributary',
        'ConfigMap/tributary-config',
        'Deployment/tributary-web',
        'Service/tributary-web',
        'Ingress/tributary-web',
        'HorizontalPodAutoscaler/tributary-web',
        'PodDisruptionBudget/tributary-web',
        'Deployment/tributary-worker-sync',
        'PodDisruptionBudget/tributary-worker-sync',
        'Deployment/tributary-worker-singleton',
        'Job/tributary-migrate',
      ]),
    );
    expect(sut.filter((o) => o.kind !== 'Namespace').every((o) => o.metadata.namespace === 'tributary')).toBe(true);
  });

  it('should validate against the strict Kubernetes schemas and pass every cross-check', () => {
    expect(allProblems(sut)).toEqual([]);
  });

  it('should boot the config loader with every container environment', () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'tributary-k8s-'));
    try {
      for (const { owner, pod } of podOwners(sut)) {
        for (const container of pod.containers) {
          const config = loadConfig(containerEnv(sut, container, tmp));
          expect({ owner: owner.metadata.name, url: config.database.url }).toEqual({
            owner: owner.metadata.name,
            url: SECRET_VALUES.DATABASE_URL,
          });
        }
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('should run the migrations with the CLI in a Job', () => {
    const job = find(sut, 'Job', 'tributary-migrate');
    expect(job.spec.template.spec.containers[0].args).toEqual(['node', entryPoints.cli, 'db', 'migrate']);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
  });

  it('should run one singleton worker with Recreate and scaled sync workers', () => {
    const singleton = find(sut, 'Deployment', 'tributary-worker-singleton');
    expect(singleton.spec.replicas).toBe(1);
    expect(singleton.spec.strategy).toEqual({ type: 'Recreate' });
    const sync = find(sut, 'Deployment', 'tributary-worker-sync');
    const roles = sync.spec.template.spec.containers[0].env.find((e: Json) => e.name === 'WORKER_ROLES');
    expect(roles.value).toBe('sync');
  });
});

describe('k8s/overlays/production', () => {
  const sut = renderKustomization(repoPath('k8s/overlays/production'));

  it('should pin the image from the registry and keep the ingress host and public URL in step', () => {
    for (const { pod } of podOwners(sut)) {
      for (const c of pod.containers) expect(c.image).toMatch(/^registry\.example\.com\/tributary:\d+\.\d+\.\d+$/);
    }
    const host = find(sut, 'Ingress', 'tributary-web').spec.rules[0].host;
    expect(find(sut, 'ConfigMap', 'tributary-config').data.TRIBUTARY_PUBLIC_URL).toBe(`https://${host}`);
  });

  it('should scale the sync workers with the External-metric HPA', () => {
    const hpa = find(sut, 'HorizontalPodAutoscaler', 'tributary-worker-sync');
    expect(hpa.spec.metrics[0].external.metric).toEqual({
      name: 'tributary_queue_waiting',
      selector: { matchLabels: { queue: 'sync' } },
    });
  });
});

describe('k8s/overlays/production-keda', () => {
  const sut = renderKustomization(repoPath('k8s/overlays/production-keda'));

  it('should replace the sync HPA with a KEDA ScaledObject', () => {
    expect(sut.some((o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === 'tributary-worker-sync')).toBe(
      false,
    );
    expect(find(sut, 'ScaledObject', 'tributary-worker-sync').spec.scaleTargetRef.name).toBe('tributary-worker-sync');
    expect(find(sut, 'HorizontalPodAutoscaler', 'tributary-web')).toBeDefined();
  });
});

describe('k8s/examples/secret.yaml', () => {
  it('should be a valid Secret holding every key a *_FILE variable reads', () => {
    expect(schemas.validate(exampleSecret as K8sObject)).toEqual([]);
    const read = podOwners(renderKustomization(repoPath('k8s/base'))).flatMap(({ pod }) =>
      pod.containers.flatMap((c: Json) =>
        (c.env ?? []).filter((e: Json) => e.name.endsWith('_FILE')).map((e: Json) => path.basename(e.value)),
      ),
    );
    expect([...new Set(read)].sort()).toEqual([...secretKeys].sort());
  });
});

describe('k8s/schemas', () => {
  it('should list a definition for every kind it claims', () => {
    const kinds = JSON.parse(readRepoFile('k8s/schemas/kinds.json')) as Record<string, string>;
    const doc = JSON.parse(readRepoFile('k8s/schemas/kubernetes-v1.27-strict.json')) as { definitions: object };
    for (const name of Object.values(kinds)) expect(doc.definitions).toHaveProperty([name]);
  });

  it('should hold only the vendored schema files and their provenance', () => {
    expect(readdirSync(repoPath('k8s/schemas')).sort()).toEqual([
      'README.md',
      'extract-kubernetes-schema.mjs',
      'kinds.json',
      'kubernetes-v1.27-strict.json',
    ]);
  });
});

describe('the checks themselves', () => {
  let base: K8sObject[];
  const mutate = (fn: (objects: Json[]) => void): string[] => {
    const copy = structuredClone(base) as Json[];
    fn(copy);
    return allProblems(copy);
  };
  const web = (objects: Json[]): Json =>
    objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'tributary-web');
  const webContainer = (objects: Json[]): Json => web(objects).spec.template.spec.containers[0];

  beforeAll(() => {
    base = renderKustomization(repoPath('k8s/base'));
  });

  it('should reject a field the schema does not define (strict additionalProperties)', () => {
    expect(mutate((o) => (webContainer(o).livenessprobe = {}))).toEqual([
      expect.stringMatching(/Deployment\/tributary-web\/spec\/template\/spec\/containers\/0: .*\(livenessprobe\)/),
    ]);
  });

  it('should reject a wrongly typed field', () => {
    expect(mutate((o) => (web(o).spec.revisionHistoryLimit = 'five'))).toEqual([
      expect.stringMatching(/revisionHistoryLimit: must be integer/),
    ]);
  });

  it('should reject a selector that does not match the pod labels', () => {
    expect(mutate((o) => (web(o).spec.selector.matchLabels['app.kubernetes.io/component'] = 'webb'))).toEqual(
      expect.arrayContaining([expect.stringMatching(/selector.matchLabels is not a subset/)]),
    );
  });

  it('should reject a Service targetPort that no container exposes', () => {
    expect(mutate((o) => (o.find((x) => x.kind === 'Service').spec.ports[0].targetPort = 'https'))).toEqual(
      expect.arrayContaining([expect.stringMatching(/targetPort https is not a container port/)]),
    );
  });

  it('should reject an unknown configuration key and a _FILE variable for a non-secret', () => {
    const problems = mutate((o) => {
      webContainer(o).env.push({ name: 'SYNC_CONCURENCY', value: '4' }, { name: 'WEB_PORT_FILE', value: '/x' });
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/SYNC_CONCURENCY: not a configuration key/),
        expect.stringMatching(/WEB_PORT_FILE: WEB_PORT is not a secret key/),
      ]),
    );
  });

  it('should reject a secret placed in the ConfigMap or in plain env', () => {
    const problems = mutate((o) => {
      o.find((x) => x.kind === 'ConfigMap').data.SESSION_SECRET = 'x'.repeat(40);
      webContainer(o).env.push({ name: 'STRAVA_CLIENT_SECRET', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } });
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/ConfigMap\/tributary-config: SESSION_SECRET is a secret/),
        expect.stringMatching(/STRAVA_CLIENT_SECRET reads a secret into env/),
      ]),
    );
  });

  it('should reject a _FILE path that the Secret volume does not project', () => {
    const problems = mutate((o) => {
      webContainer(o).env.find((e: Json) => e.name === 'SESSION_SECRET_FILE').value = `${SECRET_MOUNT}/SESSION`;
    });
    expect(problems).toEqual([
      expect.stringMatching(/SESSION_SECRET_FILE: the Secret volume projects no file SESSION/),
    ]);
  });

  it('should reject probes on other paths and missing resources', () => {
    const problems = mutate((o) => {
      webContainer(o).readinessProbe.httpGet.path = '/healthz';
      delete webContainer(o).resources.limits.memory;
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/readinessProbe must GET \/health\/ready/),
        expect.stringMatching(/resources.limits.memory is missing/),
      ]),
    );
  });

  it('should reject a root or writable container and service links', () => {
    const problems = mutate((o) => {
      web(o).spec.template.spec.securityContext.runAsNonRoot = false;
      webContainer(o).securityContext.readOnlyRootFilesystem = false;
      web(o).spec.template.spec.enableServiceLinks = true;
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/runAsNonRoot must be true/),
        expect.stringMatching(/readOnlyRootFilesystem must be true/),
        expect.stringMatching(/enableServiceLinks must be false/),
      ]),
    );
  });

  it('should reject start commands outside the build output and unpinned images', () => {
    const problems = mutate((o) => {
      webContainer(o).args = ['node', 'dist/apps/web/main.js'];
      webContainer(o).image = 'tributary:latest';
    });
    expect(problems).toEqual(
      expect.arrayContaining([expect.stringMatching(/args must start with node/), expect.stringMatching(/not pinned/)]),
    );
  });

  it('should reject a scaled singleton and a second scheduler', () => {
    const problems = mutate((o) => {
      const singleton = o.find((x) => x.metadata.name === 'tributary-worker-singleton');
      singleton.spec.replicas = 2;
      singleton.spec.strategy = { type: 'RollingUpdate' };
      o.find((x) => x.metadata.name === 'tributary-worker-sync').spec.template.spec.containers[0].env[0].value =
        'sync,scheduler';
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'role scheduler runs in 2 Deployments, expected 1',
        expect.stringMatching(/mixes sync with singleton roles/),
        expect.stringMatching(/singleton roles need replicas: 1/),
        expect.stringMatching(/singleton roles need strategy Recreate/),
      ]),
    );
  });

  it('should reject replicas on an autoscaled Deployment and a CPU-scaled sync worker', () => {
    const problems = mutate((o) => {
      web(o).spec.replicas = 3;
      const hpa = o.find((x) => x.kind === 'HorizontalPodAutoscaler' && x.metadata.name === 'tributary-worker-sync');
      hpa.spec.metrics = [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
      ];
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/tributary-web: sets replicas although/),
        expect.stringMatching(/must scale on one External metric only/),
      ]),
    );
  });

  it('should reject a kind that nothing validates', () => {
    const problems = mutate((o) =>
      o.push({
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'ServiceMonitor',
        metadata: { name: 'x', labels: { 'app.kubernetes.io/part-of': 'tributary' } },
      }),
    );
    expect(problems).toEqual([expect.stringMatching(/ServiceMonitor is neither in the vendored schemas/)]);
  });

  it('should reject a KEDA trigger on another metric', () => {
    const keda = renderKustomization(repoPath('k8s/overlays/production-keda')) as Json[];
    keda.find((o) => o.kind === 'ScaledObject').spec.triggers[0].metadata.query = 'sum(up)';
    expect(checkScaledObjects(keda)).toEqual([expect.stringMatching(/must read tributary_queue_waiting/)]);
  });
});

describe(renderKustomization.name, () => {
  let dir: string;
  const write = (file: string, text: string) => writeFileSync(path.join(dir, file), text);

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tributary-kustomize-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const KUSTOMIZATION = 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n';
  const CONFIGMAP = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  A: "1"\n';

  it('should refuse fields it does not implement', () => {
    write('kustomization.yaml', `${KUSTOMIZATION}resources: [cm.yaml]\ncommonLabels:\n  a: b\n`);
    write('cm.yaml', CONFIGMAP);
    expect(() => renderKustomization(dir)).toThrow(/does not implement: commonLabels/);
  });

  it('should apply JSON 6902 patches, images and the namespace', () => {
    write(
      'kustomization.yaml',
      `${KUSTOMIZATION}namespace: ns\nresources: [cm.yaml]\npatches:\n  - target: { kind: ConfigMap, name: c }\n    patch: |-\n      - op: add\n        path: /data/B\n        value: "2"\n`,
    );
    write('cm.yaml', CONFIGMAP);
    expect(renderKustomization(dir)).toEqual([
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'ns' }, data: { A: '1', B: '2' } },
    ]);
  });

  it('should fail when a patch replaces or deletes something that is not there', () => {
    write(
      'kustomization.yaml',
      `${KUSTOMIZATION}resources: [cm.yaml]\npatches:\n  - target: { kind: ConfigMap, name: c }\n    patch: |-\n      - op: replace\n        path: /data/Z\n        value: x\n`,
    );
    write('cm.yaml', CONFIGMAP);
    expect(() => renderKustomization(dir)).toThrow(/nothing there to replace/);
  });

  it('should fail on duplicate objects', () => {
    write('kustomization.yaml', `${KUSTOMIZATION}resources: [cm.yaml, cm2.yaml]\n`);
    write('cm.yaml', CONFIGMAP);
    write('cm2.yaml', CONFIGMAP);
    expect(() => renderKustomization(dir)).toThrow(/defined twice/);
  });
});

describe('docs/runbook.md', () => {
  const text = readRepoFile('docs/runbook.md');
  const rendered = renderKustomization(repoPath('k8s/overlays/production'));
  const names = new Set(rendered.map((o) => `${o.kind}/${o.metadata.name}`));

  it('should name only Deployments and Jobs the manifests define', () => {
    const refs = [...text.matchAll(/\b(deploy|job)\/(tributary-[a-z-]+)/g)];
    expect(refs.length).toBeGreaterThan(5);
    for (const [, kind, name] of refs) {
      expect(names).toContain(`${kind === 'deploy' ? 'Deployment' : 'Job'}/${name}`);
    }
  });

  it('should select only component labels the manifests carry', () => {
    const components = new Set(rendered.map((o) => o.metadata.labels?.['app.kubernetes.io/component']));
    const used = [...text.matchAll(/app\.kubernetes\.io\/component=([a-z-]+)/g)].map((m) => m[1]);
    expect(used.length).toBeGreaterThan(0);
    for (const c of used) expect(components).toContain(c);
  });

  it('should point at compose files and kustomizations that exist', () => {
    for (const [, file] of text.matchAll(/-f docker\/([\w.-]+\.yml)/g)) {
      // An override the runbook spells out inline is named in a comment at the top of its snippet.
      if (!text.includes(`# docker/${file}`)) expect(existsSync(repoPath('docker', file ?? ''))).toBe(true);
    }
    for (const [, dir] of text.matchAll(/apply -k (k8s\/[\w/-]+)/g)) {
      expect(existsSync(repoPath(dir ?? '', 'kustomization.yaml'))).toBe(true);
    }
  });

  it('should document the commands the manifests run', () => {
    const job = find(rendered, 'Job', 'tributary-migrate');
    expect(text).toContain(`tributary ${job.spec.template.spec.containers[0].args.slice(2).join(' ')}`);
    expect(text).toContain('tributary keys rotate');
    expect(text).toContain('tributary_queue_waiting{queue="sync"}');
  });
});
