'use strict';
// `npm run bench [name…]`: runs every bench/*.bench.ts (or the named ones) one after another in a fresh Node
// process each, so one bench's heap and RSS do not colour the next one's numbers. Numeric arguments are passed on to
// the benches as their size (`npm run bench pipeline 50`: 50 users). bench/pipeline.bench.ts needs the local Postgres
// and Redis, like the integration tests.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const benchDir = path.join(root, 'bench');
const args = process.argv.slice(2);
const sizes = args.filter((a) => /^\d+$/.test(a));
const wanted = args.filter((a) => !/^\d+$/.test(a));
const files = fs
  .readdirSync(benchDir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
  .sort();
if (files.length === 0) {
  process.stderr.write(`no benches match ${wanted.join(' ') || '(all)'} in bench/\n`);
  process.exit(2);
}
let failed = 0;
for (const file of files) {
  process.stdout.write(`\n=== ${file} ===\n`);
  const run = spawnSync(
    process.execPath,
    ['--expose-gc', '--require', path.join(__dirname, 'register-ts.js'), path.join(benchDir, file), ...sizes],
    { stdio: 'inherit', cwd: root },
  );
  if (run.status !== 0) failed += 1;
}
process.exit(failed === 0 ? 0 : 1);
