import type { FixtureLibrary } from './core/fixtures.util';
import { resolveActivitySource } from './core/fixtures.util';
import type { DropboxSimulator } from './dropbox/dropbox.simulator';
import type { GarminSimulator } from './garmin/garmin.simulator';
import type { StravaSimulator } from './strava/strava.simulator';

export interface SeedSummary {
  strava: { athleteId: number; username: string; accessToken: string; refreshToken: string; activities: number };
  garmin: { username: string; password: string; mfaUsername: string; mfaCode: string; activities: number };
  dropbox: { accountId: string; email: string; accessToken: string; refreshToken?: string; files: string[] };
}

export const SEED_PASSWORD = 'sandbox-password';

/** Demo accounts with a few real device files each, so the demo has something to sync on first start. */
export function seedDemo(
  sims: { strava: StravaSimulator; garmin: GarminSimulator; dropbox: DropboxSimulator },
  fixtures: FixtureLibrary,
): SeedSummary {
  const { strava, garmin, dropbox } = sims;
  const load = (fixture: string) => resolveActivitySource({ fixture }, fixtures, 'fit');

  const athlete = strava.createAthlete({
    id: 1001,
    username: 'demo',
    firstname: 'Demo',
    lastname: 'Athlete',
    timezone: 'America/Los_Angeles',
  });
  const stravaFiles: [string, boolean][] = [
    ['fit/garmin-fenix-5-run.fit', false],
    ['fit/garmin-fenix-5-bike.fit', false],
    ['tcx/test.tcx', true],
  ];
  for (const [name, isPrivate] of stravaFiles) {
    strava.addActivity(athlete.id, load(name).track, { private: isPrivate, externalId: name.split('/')[1] }, false);
  }
  const token = strava.issueToken(athlete.id, ['activity:read_all', 'activity:write']);

  garmin.createAccount({ username: 'demo@example.com', password: SEED_PASSWORD, displayName: 'demo' });
  garmin.createAccount({ username: 'mfa@example.com', password: SEED_PASSWORD, displayName: 'mfa-demo', mfa: true });
  const garminFiles = ['fit/garmin-fenix-5-walk.fit', 'fit/activity-small-fenix2-run.fit'];
  for (const name of garminFiles) {
    const src = load(name);
    garmin.addActivity('demo@example.com', src.track, {
      file: { format: src.format, bytes: src.bytes, name: src.name },
    });
  }

  const account = dropbox.createAccount({
    accountId: 'dbid:AADemoSandboxAccount0000000000000000000000',
    email: 'demo@example.com',
    displayName: 'Demo Dropbox',
  });
  const dropboxFiles = ['/Tributary/run/no_hr.tcx', '/Tributary/ride/gpxpy_around-visnjan-with-car.gpx'];
  for (const path of dropboxFiles) {
    dropbox.putFile(account, path, fixtures.read(path.slice(path.lastIndexOf('/') + 1)).bytes);
  }
  const dbx = dropbox.issueToken(account.accountId);

  return {
    strava: {
      athleteId: athlete.id,
      username: athlete.username,
      accessToken: token.accessToken,
      refreshToken: token.refreshToken,
      activities: stravaFiles.length,
    },
    garmin: {
      username: 'demo@example.com',
      password: SEED_PASSWORD,
      mfaUsername: 'mfa@example.com',
      mfaCode: garmin.settings.defaultMfaCode,
      activities: garminFiles.length,
    },
    dropbox: {
      accountId: account.accountId,
      email: account.email,
      accessToken: dbx.accessToken,
      refreshToken: dbx.refreshToken,
      files: dropboxFiles,
    },
  };
}
