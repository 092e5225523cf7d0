type Teardown = () => Promise<void>;

/**
 * global-setup and global-teardown run in the same (parent) jest process; this hands the clean-up from one to the
 * other through a process-wide symbol, since jest may load the two files in separate module registries.
 */
const KEY = Symbol.for('tributary.integration.teardowns');

function registry(): Teardown[] {
  const g = globalThis as unknown as Record<symbol, Teardown[] | undefined>;
  g[KEY] ??= [];
  return g[KEY];
}

export function registerTeardown(fn: Teardown): void {
  registry().push(fn);
}

/** Runs every registered clean-up, newest first; all are attempted even when one fails. */
export async function runTeardowns(): Promise<void> {
  const list = registry().splice(0).reverse();
  const results = await Promise.allSettled(list.map((fn) => fn()));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
