import { Counter, Histogram, type Registry } from 'prom-client';

export interface HttpRequestEvent {
  method: string;
  /** The route pattern (`/activities/:id`), never the raw URL: ids in label values would explode the series. */
  route: string;
  status: number;
  durationMs: number;
}

/** Requests served by the hub's own HTTP server. */
export class HttpMetrics {
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly durations: Histogram<'method' | 'route'>;

  constructor(registry: Registry) {
    this.requests = new Counter({
      name: 'tributary_http_requests_total',
      help: 'HTTP requests served, by method, route pattern and status code.',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    });
    this.durations = new Histogram({
      name: 'tributary_http_request_duration_seconds',
      help: 'Time to answer HTTP requests, by method and route pattern.',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
  }

  observe(event: HttpRequestEvent): void {
    this.requests.inc({ method: event.method, route: event.route, status: String(event.status) });
    this.durations.observe({ method: event.method, route: event.route }, event.durationMs / 1000);
  }
}
