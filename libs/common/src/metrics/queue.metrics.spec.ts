import { createMetricsRegistry, hubVersion } from './metrics.registry';
import { QueueMetrics, type QueueSnapshot } from './queue.metrics';

const SYNC: QueueSnapshot = {
  queue: 'sync',
  states: { waiting: 3, prioritized: 2, active: 1, failed: 4 },
  waiting: 5,
  oldestWaitingMs: 90_000,
};

describe(QueueMetrics.name, () => {
  it('should read the queues once per scrape and export states, waiting jobs and the oldest wait', async () => {
    const registry = createMetricsRegistry({ role: 'worker', processMetrics: false });
    const source = jest.fn(() => Promise.resolve([SYNC]));
    new QueueMetrics(registry, source);

    const text = await registry.metrics();

    expect(source).toHaveBeenCalledTimes(1);
    expect(text).toContain('tributary_jobs{queue="sync",state="prioritized"} 2');
    expect(text).toContain('tributary_jobs{queue="sync",state="failed"} 4');
    expect(text).toContain('tributary_queue_waiting{queue="sync"} 5');
    expect(text).toContain('tributary_queue_oldest_waiting_seconds{queue="sync"} 90');
  });

  it('should drop the queue series and count the failure when Redis cannot be read, keeping the rest', async () => {
    const registry = createMetricsRegistry({ role: 'worker', processMetrics: false });
    let fail = false;
    const source = () => (fail ? Promise.reject(new TypeError('redis down')) : Promise.resolve([SYNC]));
    new QueueMetrics(registry, source, 0);
    await registry.metrics();
    fail = true;
    await registry.metrics();

    const text = await registry.metrics();

    expect(text).not.toContain('tributary_queue_waiting{');
    // The counter is rendered alongside the collections, so it shows the failures of the scrapes before this one.
    expect(text).toContain('tributary_metrics_collect_errors_total{source="queues"} 1');
    expect(text).toContain(`tributary_process_info{role="worker",version="${hubVersion()}"} 1`);
  });
});
