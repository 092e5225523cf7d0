import { ConnectorMetrics } from './connector.metrics';
import { createMetricsRegistry } from './metrics.registry';

describe(ConnectorMetrics.name, () => {
  it('should count calls by service, operation and status, and 429s apart', async () => {
    const registry = createMetricsRegistry({ role: 'worker', processMetrics: false });
    const sut = new ConnectorMetrics(registry);

    sut.observeRequest({ service: 'strava', operation: 'list', status: 200, outcome: 'ok', durationMs: 120 });
    sut.observeRequest({ service: 'strava', operation: 'list', status: 200, outcome: 'ok', durationMs: 80 });
    sut.observeRequest({ service: 'strava', operation: 'upload', status: 429, outcome: 'http_error', durationMs: 5 });
    sut.observeRequest({ service: 'dropbox', operation: 'download', outcome: 'timeout', durationMs: 30_000 });
    const text = await registry.metrics();

    expect(text).toContain('tributary_api_requests_total{service="strava",operation="list",status="200"} 2');
    expect(text).toContain('tributary_api_requests_total{service="dropbox",operation="download",status="timeout"} 1');
    expect(text).toContain('tributary_api_rate_limited_total{service="strava"} 1');
    expect(text).not.toContain('tributary_api_rate_limited_total{service="dropbox"}');
    expect(text).toContain('tributary_api_request_duration_seconds_count{service="strava",operation="list"} 2');
  });

  it('should keep the latest budget of each bucket, never below zero', async () => {
    const registry = createMetricsRegistry({ role: 'worker', processMetrics: false });
    const sut = new ConnectorMetrics(registry);

    sut.observeBudget({ service: 'strava', bucket: 'strava:15m', remaining: 99, capacity: 100 });
    sut.observeBudget({ service: 'strava', bucket: 'strava:15m', remaining: -2, capacity: 100 });
    const text = await registry.metrics();

    expect(text).toContain('tributary_rate_limit_remaining{service="strava",bucket="strava:15m"} 0');
    expect(text).toContain('tributary_rate_limit_capacity{service="strava",bucket="strava:15m"} 100');
  });
});
