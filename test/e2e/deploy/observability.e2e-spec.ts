import { QueueMetrics, createMetricsRegistry } from '@tributary/common';
import { loadConfig } from '@tributary/config';
import { QueueName } from '@tributary/queue';
import { environmentOf } from './support/compose-checks.util';
import { renderKustomization, type K8sObject } from './support/kustomize.util';
import { parseYaml, readRepoFile, repoPath } from './support/repo.util';

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return --
   Manifests and compose files are untyped YAML. Each read feeds an assertion against what the code does, so a wrong
   shape fails loudly instead of passing. */
type Json = any;

/** What each process would load from an environment, ignoring the secret files (not needed for ports). */
function configOf(env: Record<string, string | undefined>) {
  return loadConfig(Object.fromEntries(Object.entries(env).filter(([k]) => !k.endsWith('_FILE'))));
}

/** The gauge names the hub's queue metrics export, the ones autoscalers may query. */
async function exportedQueueSeries(): Promise<string> {
  const registry = createMetricsRegistry({ role: 'worker', processMetrics: false });
  new QueueMetrics(registry, () =>
    Promise.resolve(
      Object.values(QueueName).map((queue) => ({ queue, states: { waiting: 1 }, waiting: 1, oldestWaitingMs: 0 })),
    ),
  );
  return registry.metrics();
}

/*
 * The probes, scrape annotations and autoscalers of the deployment files must name the ports, paths and metrics the
 * code actually serves: a mismatch only shows in a cluster, as pods that never become ready or never scale.
 */
describe('deployments agree with the observability code', () => {
  describe('k8s/base', () => {
    let objects: K8sObject[];
    const deployments = (): Json[] => (objects as Json[]).filter((o) => o.kind === 'Deployment');

    beforeAll(() => {
      objects = renderKustomization(repoPath('k8s/base'));
    });

    function containerConfig(container: Json) {
      const env: Record<string, string> = {};
      for (const ref of container.envFrom ?? []) {
        const map = (objects as Json[]).find(
          (o) => o.kind === 'ConfigMap' && o.metadata.name === ref.configMapRef.name,
        );
        Object.assign(env, map?.data);
      }
      for (const e of container.env ?? []) env[e.name] = String(e.value);
      return configOf(env);
    }

    it('should probe and scrape each pod on the port and host its process listens on', () => {
      expect(
        deployments()
          .map((d) => d.metadata.name)
          .sort(),
      ).toEqual(['tributary-web', 'tributary-worker-singleton', 'tributary-worker-sync']);
      for (const d of deployments()) {
        const [container] = d.spec.template.spec.containers;
        const config = containerConfig(container);
        const isWorker = String(container.args.join(' ')).includes('apps/worker/');
        const listens = isWorker ? config.observability.workerHttp : config.web;
        const http = container.ports.find((p: Json) => p.name === 'http');
        const annotations = d.spec.template.metadata.annotations;
        expect({ name: d.metadata.name, host: listens.host, port: http?.containerPort }).toEqual({
          name: d.metadata.name,
          host: '0.0.0.0',
          port: listens.port,
        });
        expect(annotations).toMatchObject({
          'prometheus.io/port': String(listens.port),
          'prometheus.io/path': '/metrics',
        });
        expect(container.livenessProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
        expect(container.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'http' });
      }
    });

    it('should scale sync workers on a gauge the workers export, for the sync queue', async () => {
      const hpa = (objects as Json[]).find(
        (o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === 'tributary-worker-sync',
      );
      const metric = hpa.spec.metrics[0].external.metric;
      const exported = await exportedQueueSeries();
      expect(exported).toContain(`${metric.name}{queue="${metric.selector.matchLabels.queue}"} 1`);
      expect(metric.selector.matchLabels.queue).toBe(QueueName.Sync);
    });
  });

  it('should let KEDA query a series the workers export', async () => {
    const scaled = parseYaml(readRepoFile('k8s/components/keda-sync-scaler/scaledobject.yaml')) as Json;
    const query: string = scaled.spec.triggers[0].metadata.query;
    const series = /(tributary_\w+)\{[^}]*queue="(\w+)"/.exec(query);
    expect(series).not.toBeNull();
    expect(await exportedQueueSeries()).toContain(`${series?.[1]}{queue="${series?.[2]}"} 1`);
  });

  it('should health-check the compose worker on the port it listens on', () => {
    const compose = parseYaml(readRepoFile('docker/compose.yml')) as Json;
    const worker = compose.services.worker;
    const config = configOf(environmentOf(worker));
    const check: string = worker.healthcheck.test.join(' ');
    expect(config.observability.workerHttp.host).toBe('0.0.0.0');
    expect(check).toContain(`http://127.0.0.1:${config.observability.workerHttp.port}/health/`);
  });
});
