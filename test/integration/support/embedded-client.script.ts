/*
 * A separate process using the embedded database, as the web app or the worker would: opens (starting the engine if
 * needed), migrates, writes its marker, waits until it sees the other process's marker, then closes. Prints JSON.
 * argv: dataDir port name peerName
 */
import { openDatabase } from '@tributary/db';

async function main(): Promise<void> {
  const [dataDir, port, name, peer] = process.argv.slice(2) as [string, string, string, string];
  const t0 = Date.now();
  const database = await openDatabase(
    { dataDir, embeddedPort: Number(port), poolSize: 2 },
    { applicationName: `int-${name}`, durable: false },
  );
  const openedMs = Date.now() - t0;
  await database.db
    .insertInto('stats_samples')
    .values({ metric: 'two-process-test', value: 1, labels: { name } })
    .execute();
  let sawPeer = false;
  for (let i = 0; i < 200 && !sawPeer; i += 1) {
    const rows = await database.db
      .selectFrom('stats_samples')
      .select('labels')
      .where('metric', '=', 'two-process-test')
      .execute();
    sawPeer = rows.some((r) => r.labels.name === peer);
    if (!sawPeer) await new Promise((r) => setTimeout(r, 50));
  }
  // Hold on briefly so the peer also sees us before we go.
  await new Promise((r) => setTimeout(r, 300));
  await database.close();
  process.stdout.write(JSON.stringify({ name, kind: database.kind, openedMs, sawPeer }) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exitCode = 1;
});
