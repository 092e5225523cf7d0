import { NotFoundError, createLogger } from '@tributary/common';
import { ConnectorRegistry } from '@tributary/connectors';
import { AccountRepository, type ConnectionView } from '@tributary/db';
import { JobName, QueueName, SyncPriority, jobIdFor } from '@tributary/queue';
import { SiteAccountService } from '../../apps/web/src/auth/site-account.service';
import { newUser, unique } from './support/factories';
import { useQueueTestContext } from './support/test-queues';

describe('reconnecting a connection that needed re-authorisation', () => {
  const env = useQueueTestContext();
  let sut: SiteAccountService;

  beforeEach(() => {
    const { repos } = env.ctx;
    sut = new SiteAccountService(
      repos.users,
      repos.connections,
      new AccountRepository(env.ctx.db),
      new ConnectorRegistry([]),
      createLogger({ level: 'silent' }),
      env.jobs,
    );
  });

  interface Broken {
    userId: string;
    strava: ConnectionView;
    garmin: ConnectionView;
    athleteId: string;
  }

  /** A user whose Strava authorisation was revoked, recorded the way a sync records it. */
  async function brokenUser(): Promise<Broken> {
    const { repos } = env.ctx;
    const user = await newUser(env.ctx.db, { next_sync_exhaustive: false, next_sync_at: null });
    const athleteId = unique('athlete');
    const strava = await repos.connections.connect(user.id, {
      service: 'strava',
      externalUserId: athleteId,
      credentials: { accessToken: 'old' },
    });
    const garmin = await repos.connections.connect(user.id, {
      service: 'garmin_connect',
      externalUserId: unique('garmin'),
      credentials: { password: 'x' },
    });
    await repos.connections.setStatus(user.id, strava.id, 'needs_reauth');
    await repos.syncErrors.record(user.id, {
      connectionId: strava.id,
      scope: 'connection',
      step: 'list',
      code: 'auth',
      clearGroup: 'reauth',
      message: 'authorization revoked',
      blocking: true,
      intervention: 'reauth',
      triggerExhaustive: true,
    });
    await repos.syncErrors.record(user.id, {
      connectionId: strava.id,
      scope: 'activity',
      step: 'upload',
      code: 'upload',
      message: 'HTTP 500',
      activityUid: 'a1',
    });
    await repos.syncErrors.record(user.id, {
      connectionId: garmin.id,
      scope: 'connection',
      code: 'full',
      message: 'storage full',
      blocking: true,
      intervention: 'account_full',
    });
    await repos.exclusions.upsert(user.id, strava.id, { key: 'tz-1', reason: 'tz_unknown' });
    await repos.exclusions.upsert(user.id, strava.id, { key: 'bad-file', reason: 'sanity', permanent: true });
    return { userId: user.id, strava, garmin, athleteId };
  }

  async function openCodes(userId: string, connectionId: string): Promise<string[]> {
    return (await env.ctx.repos.syncErrors.listOpen(userId, { connectionId })).map((e) => e.code).sort();
  }

  it('should clear the connection’s blocking errors and temporary exclusions and queue an exhaustive sync', async () => {
    const u = await brokenUser();
    const other = await brokenUser();

    const outcome = await sut.connect(undefined, 'strava', {
      externalUserId: u.athleteId,
      credentials: { accessToken: 'new' },
    });

    expect(outcome).toEqual({ userId: u.userId, created: false, merged: false });
    const { repos } = env.ctx;
    expect((await repos.connections.getForUser(u.userId, u.strava.id)).status).toBe('ok');
    expect(await repos.connections.readCredentials(u.userId, u.strava.id)).toEqual({ accessToken: 'new' });
    // The auth error goes; an activity's upload error and the other connection's problem are not about auth.
    expect(await openCodes(u.userId, u.strava.id)).toEqual(['upload']);
    expect(await openCodes(u.userId, u.garmin.id)).toEqual(['full']);
    expect((await repos.exclusions.listActive(u.userId, u.strava.id)).map((x) => x.key)).toEqual(['bad-file']);
    const user = await repos.users.getById(u.userId);
    expect(user.next_sync_exhaustive).toBe(true);
    expect(user.next_sync_at?.getTime()).toBeLessThanOrEqual(Date.now());
    const job = await env.jobs
      .queue(QueueName.Sync)
      .getJob(jobIdFor({ name: JobName.SyncUser, data: { userId: u.userId, trigger: 'connected' } }));
    expect(job?.data).toEqual({ userId: u.userId, trigger: 'connected', exhaustive: true });
    expect(job?.priority).toBe(SyncPriority.Manual);

    // Nothing of the other user changed.
    expect((await repos.connections.getForUser(other.userId, other.strava.id)).status).toBe('needs_reauth');
    expect(await openCodes(other.userId, other.strava.id)).toEqual(['auth', 'upload']);
    expect(await repos.exclusions.listActive(other.userId, other.strava.id)).toHaveLength(2);
    expect((await repos.users.getById(other.userId)).next_sync_at).toBeNull();
  });

  it('should refuse to clear another user’s connection', async () => {
    const mine = await brokenUser();
    const theirs = await brokenUser();
    const accounts = new AccountRepository(env.ctx.db);

    await expect(accounts.reconnected(mine.userId, theirs.strava.id)).rejects.toThrow(NotFoundError);
    await expect(accounts.reconnected(mine.userId, 'not-a-uuid')).rejects.toThrow(NotFoundError);

    expect(await openCodes(theirs.userId, theirs.strava.id)).toEqual(['auth', 'upload']);
    expect((await env.ctx.repos.connections.getForUser(theirs.userId, theirs.strava.id)).status).toBe('needs_reauth');
    expect(await env.ctx.repos.exclusions.listActive(theirs.userId, theirs.strava.id)).toHaveLength(2);
  });

  it('should queue the first sync of a newly connected service at once', async () => {
    const u = await brokenUser();
    const outcome = await sut.connect(u.userId, 'dropbox', { externalUserId: unique('dbx'), credentials: { t: 1 } });
    expect(outcome).toMatchObject({ userId: u.userId, created: false });
    const job = await env.jobs
      .queue(QueueName.Sync)
      .getJob(jobIdFor({ name: JobName.SyncUser, data: { userId: u.userId, trigger: 'connected' } }));
    expect(job?.data).toMatchObject({ exhaustive: true, trigger: 'connected' });
    // Connecting another service is not a re-authorisation of Strava.
    expect(await openCodes(u.userId, u.strava.id)).toEqual(['auth', 'upload']);
  });
});
