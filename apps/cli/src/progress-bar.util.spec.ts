import { ProgressBar, formatBytes } from './progress-bar.util';

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, columns: 60, write: (s: string) => writes.push(s) > 0 } };
}

describe(ProgressBar.name, () => {
  it('should draw nothing when stderr is not a terminal', () => {
    const { writes, stream } = fakeStream(false);
    const bar = new ProgressBar('export', stream);
    bar.update(0.5, '1/2');
    bar.done();
    expect(writes).toEqual([]);
  });

  it('should redraw in place at most every 100 ms and finish on its own line', () => {
    const { writes, stream } = fakeStream(true);
    let t = 0;
    const bar = new ProgressBar('sync', stream, () => t);
    bar.update(0.25, 'listing');
    bar.update(0.3, 'listing');
    t = 150;
    bar.update(2, 'done?');
    bar.done('finished');
    expect(writes).toHaveLength(4);
    expect(writes[0]).toMatch(/^\rsync \[#{6}-{18}\] {2}25% listing\s*$/);
    expect(writes[1]).toContain('100% done?');
    expect(writes[1]!.length).toBe(60);
    expect(writes[2]).toContain('100% finished');
    expect(writes[3]).toBe('\n');
  });

  it('should format byte counts', () => {
    expect([formatBytes(12), formatBytes(2048), formatBytes(5 * 1024 * 1024)]).toEqual(['12 B', '2.0 kB', '5.0 MB']);
  });
});
