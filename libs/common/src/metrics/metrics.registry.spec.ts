import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMetricsRegistry, hubVersion } from './metrics.registry';

describe(createMetricsRegistry.name, () => {
  it("should label the process info with the role and the hub's package version", async () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '../../../../package.json'), 'utf8')) as { version: string };
    expect(hubVersion()).toBe(pkg.version);
    const text = await createMetricsRegistry({ role: 'web', processMetrics: false }).metrics();
    expect(text).toContain(`tributary_process_info{role="web",version="${pkg.version}"} 1`);
  });

  it('should take an explicit version over the package one', async () => {
    const text = await createMetricsRegistry({ role: 'worker', version: '9.9.9', processMetrics: false }).metrics();
    expect(text).toContain('tributary_process_info{role="worker",version="9.9.9"} 1');
  });
});
