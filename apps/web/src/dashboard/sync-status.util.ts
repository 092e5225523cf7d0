import { type SyncRunRow, type SyncRunStatus } from '@tributary/db';

export type SyncState = 'idle' | SyncRunStatus;

/** What the dashboard and GET /api/sync/status say about the user's latest sync. */
export interface SyncStatus {
  state: SyncState;
  /** Queued or running: the page keeps polling. */
  active: boolean;
  runId: string | null;
  /** 0..100, whole percent. */
  percent: number;
  /** The raw phase the worker reports (`listing strava`, `planning`, `processing 3/10`). */
  phase: string | null;
  /** One line for people: "queued", "listing Strava", "42 %", "done", "failed". */
  label: string;
  queuedAt: string | null;
  finishedAt: string | null;
  counts: Record<string, number>;
  /** Seconds until "Sync now" is accepted again. */
  cooldownSeconds: number;
}

const FINISHED_LABEL: Readonly<Record<'succeeded' | 'partial' | 'failed', string>> = {
  succeeded: 'done',
  partial: 'done, with problems',
  failed: 'failed',
};

/** Turns the worker's phase into words; `serviceName` maps service ids to their display names. */
export function phaseLabel(phase: string | null, percent: number, serviceName: (id: string) => string): string {
  if (phase === null || phase === 'starting') return `starting · ${percent} %`;
  const listing = /^listing (.+)$/.exec(phase);
  if (listing?.[1] !== undefined) return `listing ${serviceName(listing[1])}`;
  if (phase === 'planning') return 'planning';
  return `${percent} %`;
}

export function describeSyncRun(
  run: SyncRunRow | undefined,
  cooldownSeconds: number,
  serviceName: (id: string) => string,
): SyncStatus {
  const base = { cooldownSeconds, counts: {} as Record<string, number> };
  if (run === undefined) {
    return {
      ...base,
      state: 'idle',
      active: false,
      runId: null,
      percent: 0,
      phase: null,
      label: 'not synced yet',
      queuedAt: null,
      finishedAt: null,
    };
  }
  const percent = Math.round(Math.min(1, Math.max(0, run.progress)) * 100);
  const counts: Record<string, number> = {};
  for (const [k, v] of Object.entries(run.counts)) if (typeof v === 'number') counts[k] = v;
  let label: string;
  if (run.status === 'queued') label = 'queued';
  else if (run.status === 'running') label = phaseLabel(run.phase, percent, serviceName);
  else label = FINISHED_LABEL[run.status];
  return {
    ...base,
    counts,
    state: run.status,
    active: run.status === 'queued' || run.status === 'running',
    runId: run.id,
    percent,
    phase: run.phase,
    label,
    queuedAt: run.queued_at.toISOString(),
    finishedAt: run.finished_at === null ? null : run.finished_at.toISOString(),
  };
}
