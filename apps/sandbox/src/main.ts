import { Command, InvalidArgumentError } from 'commander';
import { describeError } from '@tributary/common';
import { loadConfig } from '@tributary/config';
import { startSandbox } from './sandbox.app';

function portArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('port must be 0-65535');
  return n;
}

async function main(): Promise<void> {
  const program = new Command('tributary-sandbox')
    .description('Local simulators of the Strava, Garmin Connect and Dropbox APIs on one port')
    .option('--seed', 'create demo accounts with sample activities')
    .option('--fixtures <dir>', 'directory with fit/, tcx/, gpx/ sample files (default <repo>/../shared/fixtures)')
    .option('--port <port>', 'port (default SANDBOX_PORT)', portArg)
    .option('--host <host>', 'host (default SANDBOX_HOST)')
    .parse(process.argv);
  const opts = program.opts<{ seed?: boolean; fixtures?: string; port?: number; host?: string }>();
  const config = loadConfig();
  const sandbox = await startSandbox({
    port: opts.port ?? config.sandbox.port,
    host: opts.host ?? config.sandbox.host,
    seed: opts.seed === true || config.sandbox.seed,
    fixturesDir: opts.fixtures ?? config.sandbox.fixturesDir,
  });
  const lines = [
    `Tributary sandbox listening on ${sandbox.url}`,
    `  STRAVA_BASE_URL=${sandbox.urls.strava}`,
    `  GARMIN_BASE_URL=${sandbox.urls.garmin}`,
    `  GARMIN_SSO_URL=${sandbox.urls.garminSso}`,
    `  DROPBOX_BASE_URL=${sandbox.urls.dropboxApi}`,
    `  DROPBOX_CONTENT_URL=${sandbox.urls.dropboxContent}`,
    `  DROPBOX_NOTIFY_URL=${sandbox.urls.dropboxNotify}`,
    `  Dropbox authorize page: ${sandbox.urls.dropboxWww}/oauth2/authorize`,
    `  Control API: ${sandbox.urls.control}`,
    `  Strava client ${sandbox.strava.settings.clientId} / ${sandbox.strava.settings.clientSecret}; Dropbox app ${sandbox.dropbox.settings.clientId} / ${sandbox.dropbox.settings.clientSecret}`,
  ];
  if (sandbox.seed !== undefined) {
    const s = sandbox.seed;
    lines.push(
      `  Seeded: Strava athlete ${s.strava.athleteId} (${s.strava.activities} activities), Garmin ${s.garmin.username} / ${s.garmin.password} (MFA account ${s.garmin.mfaUsername}, code ${s.garmin.mfaCode}), Dropbox ${s.dropbox.email} (${s.dropbox.files.length} files)`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  const stop = (): void => {
    void sandbox.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`sandbox failed to start: ${describeError(err)}\n`);
  process.exit(1);
});
