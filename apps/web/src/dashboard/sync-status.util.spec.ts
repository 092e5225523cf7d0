import { type SyncRunRow } from '@tributary/db';
import { describeSyncRun } from './sync-status.util';

const names = (id: string): string => (id === 'strava' ? 'Strava' : id);

function run(over: Partial<SyncRunRow>): SyncRunRow {
  return {
    id: 'r1',
    user_id: 'u1',
    status: 'running',
    exhaustive: false,
    trigger: 'manual',
    progress: 0,
    phase: null,
    counts: {},
    errors: [],
    worker_id: 'w',
    queued_at: new Date('2026-01-01T00:00:00Z'),
    started_at: null,
    heartbeat_at: null,
    finished_at: null,
    ...over,
  };
}

describe(describeSyncRun.name, () => {
  it('should say "not synced yet" without a run and keep the cooldown', () => {
    expect(describeSyncRun(undefined, 12, names)).toMatchObject({ state: 'idle', active: false, cooldownSeconds: 12 });
  });

  it('should name the service being listed, and show percent while processing', () => {
    expect(describeSyncRun(run({ status: 'queued' }), 0, names)).toMatchObject({ label: 'queued', active: true });
    expect(describeSyncRun(run({ phase: 'listing strava', progress: 0.1 }), 0, names).label).toBe('listing Strava');
    expect(describeSyncRun(run({ phase: 'processing 3/7', progress: 0.4249 }), 0, names)).toMatchObject({
      label: '42 %',
      percent: 42,
    });
  });

  it('should report finished runs as done or failed with their counts', () => {
    const done = describeSyncRun(
      run({ status: 'succeeded', progress: 1, counts: { uploaded: 2 }, finished_at: new Date(0) }),
      30,
      names,
    );
    expect(done).toMatchObject({ label: 'done', active: false, percent: 100, counts: { uploaded: 2 } });
    expect(describeSyncRun(run({ status: 'failed' }), 0, names).label).toBe('failed');
  });
});
