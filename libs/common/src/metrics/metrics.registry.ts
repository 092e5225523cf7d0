import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export interface MetricsRegistryOptions {
  /** Which process this is (`web`, `worker`); exported as `tributary_process_info{role}`. */
  role: string;
  /** Defaults to the hub's package version. */
  version?: string;
  /** Node.js process metrics (CPU, memory, event-loop lag, GC); on unless a test turns them off. */
  processMetrics?: boolean;
}

let cachedVersion: string | undefined;

/**
 * The version in the hub's package.json, found by walking up from this file: the same code runs from the sources
 * (libs/common/src/metrics) and from the build (dist/apps/<app>/libs/common/src/metrics), at different depths.
 */
export function hubVersion(): string {
  if (cachedVersion !== undefined) return cachedVersion;
  cachedVersion = 'unknown';
  for (let dir = __dirname; dirname(dir) !== dir; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'tributary' && typeof pkg.version === 'string') {
        cachedVersion = pkg.version;
        break;
      }
    } catch {
      // No package.json at this level; keep walking up.
    }
  }
  return cachedVersion;
}

/**
 * A registry per process (never prom-client's global one), so tests can build as many apps as they like and each
 * scrape shows only the metrics of the app it asked. Every metric set of this library registers itself on one.
 */
export function createMetricsRegistry(options: MetricsRegistryOptions): Registry {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  // Pods are scraped one by one; this series tells a web pod from a worker pod without relying on relabelling.
  new Gauge({
    name: 'tributary_process_info',
    help: 'Always 1; labels name the role and version of the process.',
    labelNames: ['role', 'version'],
    registers: [registry],
  }).set({ role: options.role, version: options.version ?? hubVersion() }, 1);
  return registry;
}

/**
 * Counts collectors that failed during a scrape. A collector that cannot reach its source drops its series rather
 * than failing the whole scrape (the process metrics and counters stay visible); this counter is what to alert on.
 * prom-client renders a registry's metrics concurrently, so a failure shows from the next scrape on.
 */
export class CollectErrors {
  private readonly counter: Counter<'source'>;

  constructor(registry: Registry) {
    const existing = registry.getSingleMetric('tributary_metrics_collect_errors_total');
    this.counter =
      (existing as Counter<'source'> | undefined) ??
      new Counter({
        name: 'tributary_metrics_collect_errors_total',
        help: 'Scrape-time collections that failed (their series are missing from that scrape), by source.',
        labelNames: ['source'],
        registers: [registry],
      });
  }

  failed(source: string): void {
    this.counter.inc({ source });
  }
}

/**
 * One call of `load` shared by every collector of the same scrape: two gauges fed by one Redis round trip must not
 * make two. A result older than `maxAgeMs` is loaded again.
 */
export function sharedLoad<T>(load: () => Promise<T>, maxAgeMs = 1000): () => Promise<T> {
  let cached: { at: number; value: Promise<T> } | undefined;
  return () => {
    const now = Date.now();
    if (cached === undefined || now - cached.at >= maxAgeMs) {
      const value = load();
      cached = { at: now, value };
      // A failed load is not reused by the next scrape.
      value.catch(() => {
        if (cached?.value === value) cached = undefined;
      });
    }
    return cached.value;
  };
}
