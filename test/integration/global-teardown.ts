import { runTeardowns } from './support/teardown-registry';

/** Drops the per-run server database, stops the embedded engine and removes its data directory. */
export default async function globalTeardown(): Promise<void> {
  await runTeardowns();
}
