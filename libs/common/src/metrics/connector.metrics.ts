import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** What a connector's HTTP client reports per request (structurally the `RequestEvent` of @tributary/connectors). */
export interface ApiRequestEvent {
  service: string;
  operation: string;
  status?: number;
  outcome: string;
  durationMs: number;
}

/** What a rate limiter knows about one shared budget after touching it. */
export interface RateBudgetEvent {
  service: string;
  bucket: string;
  remaining: number;
  capacity: number;
}

/** Calls to providers' APIs and the budgets that pace them; fed by the connectors' hooks. */
export class ConnectorMetrics {
  private readonly requests: Counter<'service' | 'operation' | 'status'>;
  private readonly durations: Histogram<'service' | 'operation'>;
  private readonly rateLimited: Counter<'service'>;
  private readonly remaining: Gauge<'service' | 'bucket'>;
  private readonly capacity: Gauge<'service' | 'bucket'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.requests = new Counter({
      name: 'tributary_api_requests_total',
      help: "Requests to providers' APIs by service, operation and HTTP status (or timeout/network).",
      labelNames: ['service', 'operation', 'status'],
      registers,
    });
    this.durations = new Histogram({
      name: 'tributary_api_request_duration_seconds',
      help: "Duration of requests to providers' APIs.",
      labelNames: ['service', 'operation'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.rateLimited = new Counter({
      name: 'tributary_api_rate_limited_total',
      help: 'HTTP 429 answers from providers by service.',
      labelNames: ['service'],
      registers,
    });
    this.remaining = new Gauge({
      name: 'tributary_rate_limit_remaining',
      help: 'Requests left in a shared rate-limit budget, as this process last saw it.',
      labelNames: ['service', 'bucket'],
      registers,
    });
    this.capacity = new Gauge({
      name: 'tributary_rate_limit_capacity',
      help: 'Size of a shared rate-limit budget (requests per window).',
      labelNames: ['service', 'bucket'],
      registers,
    });
  }

  /** Usable as the connectors' `observer` (RequestObserver). */
  readonly observeRequest = (event: ApiRequestEvent): void => {
    const status = event.status === undefined ? event.outcome : String(event.status);
    this.requests.inc({ service: event.service, operation: event.operation, status });
    this.durations.observe({ service: event.service, operation: event.operation }, event.durationMs / 1000);
    if (event.status === 429) this.rateLimited.inc({ service: event.service });
  };

  /** Usable as the rate limiter's `onBudget` hook. */
  readonly observeBudget = (event: RateBudgetEvent): void => {
    const labels = { service: event.service, bucket: event.bucket };
    this.remaining.set(labels, Math.max(0, event.remaining));
    this.capacity.set(labels, event.capacity);
  };
}
