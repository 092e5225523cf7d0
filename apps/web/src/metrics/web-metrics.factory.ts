import { type Registry } from 'prom-client';
import { ConnectorMetrics, HttpMetrics, createMetricsRegistry } from '@tributary/common';

/** The web app's metrics: its process, the requests it serves, and the providers' APIs it calls (OAuth, webhooks). */
export interface WebMetrics {
  registry: Registry;
  http: HttpMetrics;
  connectors: ConnectorMetrics;
}

export function createWebMetrics(options: { processMetrics?: boolean } = {}): WebMetrics {
  const registry = createMetricsRegistry({ role: 'web', ...options });
  return { registry, http: new HttpMetrics(registry), connectors: new ConnectorMetrics(registry) };
}
