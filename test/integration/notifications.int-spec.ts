import { randomBytes } from 'node:crypto';
import { Keyring, ValidationError, createLogger } from '@tributary/common';
import { type EnqueueResult, type JobItem, JobName, JobStatus, jobIdFor } from '@tributary/queue';
import { NotificationRepository } from '@tributary/db';
import { createMailSender } from '../../apps/worker/src/notifications/notification-channels.util';
import {
  NotificationDeliveryError,
  NotificationService,
} from '../../apps/worker/src/notifications/notification.service';
import { verifyWebhookSignature } from '../../apps/worker/src/notifications/webhook-signature.util';
import { createTestContext, type TestContext } from './support/test-db';
import { newConnection, newUser } from './support/factories';
import { SmtpSink, WebhookReceiver, decodeQuotedPrintable } from './support/notification-sinks';

const PUBLIC_URL = 'https://hub.example.test';

describe('blocking-error notifications', () => {
  let ctx: TestContext;
  let smtp: SmtpSink;
  let receiver: WebhookReceiver;
  let service: NotificationService;
  let logLines: string[];
  /** What the sync processor would have queued, run at once the way the Notify job runs it. */
  let queued: JobItem[];

  const jobs = {
    enqueue: (item: JobItem): Promise<EnqueueResult> => {
      queued.push(item);
      return Promise.resolve({ jobId: jobIdFor(item), added: true });
    },
  };

  beforeAll(async () => {
    ctx = createTestContext();
    smtp = new SmtpSink();
    receiver = new WebhookReceiver();
    await Promise.all([smtp.start(), receiver.start()]);
    logLines = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => logLines.push(line) } });
    service = new NotificationService({
      notifications: ctx.repos.notifications,
      syncErrors: ctx.repos.syncErrors,
      connections: ctx.repos.connections,
      jobs,
      mailer: createMailSender(`smtp://127.0.0.1:${smtp.port}`),
      config: { publicUrl: PUBLIC_URL, smtpFrom: 'Tributary <hub@example.test>', allowHttpWebhooks: false },
      logger,
    });
  });

  beforeEach(() => {
    queued = [];
  });

  afterAll(async () => {
    await Promise.all([smtp.stop(), receiver.stop()]);
    await ctx.close();
  });

  /** A user with a Strava connection, email at the account and a webhook at a unique receiver path. */
  async function setup(opts: { webhook?: boolean } = {}) {
    const user = await newUser(ctx.db);
    const strava = await newConnection(ctx.db, user.id, { service: 'strava' });
    const path = `/hooks/${user.id}`;
    if (opts.webhook !== false) {
      await ctx.repos.notifications.updateSettings(user.id, { webhookUrl: `${receiver.url(path)}?token=s3cr3t-query` });
    }
    return { user, email: user.email!, strava, path };
  }

  /** What a sync that hits the connection's revoked authorization records, then the processor's after-sync hook. */
  async function syncHitsReauth(userId: string, connectionId: string): Promise<void> {
    await ctx.repos.syncErrors.record(userId, {
      connectionId,
      scope: 'connection',
      step: 'list',
      code: 'auth',
      clearGroup: 'reauth',
      message: 'Strava answered 401: authorization revoked',
      blocking: true,
      intervention: 'reauth',
      triggerExhaustive: true,
    });
    await service.afterSync(userId);
  }

  /** Runs the queued Notify jobs like the worker would; retryable failures are returned, not thrown. */
  async function runQueued(): Promise<unknown[]> {
    const failures: unknown[] = [];
    for (const item of queued.splice(0)) {
      if (item.name !== JobName.Notify) continue;
      try {
        await service.deliver(item.data.userId, item.data.group);
      } catch (err) {
        failures.push(err);
      }
    }
    return failures;
  }

  it('should email and call the webhook once per error group, however many syncs hit it', async () => {
    const { user, email, strava, path } = await setup();
    await syncHitsReauth(user.id, strava.id);
    expect(queued).toEqual([{ name: JobName.Notify, data: { userId: user.id, group: `reauth-${strava.id}` } }]);
    expect(jobIdFor(queued[0]!)).toBe(`notify-${user.id}-reauth-${strava.id}`);
    expect(await runQueued()).toEqual([]);

    await syncHitsReauth(user.id, strava.id);
    expect(queued).toEqual([]);
    // Even a job that runs again (a duplicate delivery) finds the group claimed and sends nothing.
    await expect(service.deliver(user.id, `reauth-${strava.id}`)).resolves.toBe(JobStatus.Skipped);

    const mails = smtp.mailsTo(email);
    expect(mails).toHaveLength(1);
    const mail = decodeQuotedPrintable(mails[0]!.raw);
    expect(mails[0]!.from).toBe('hub@example.test');
    expect(mail).toContain('Subject: Tributary: tributary can no longer reach your Strava account');
    expect(mail).toContain(`${PUBLIC_URL}/dashboard`);
    expect(mail).toContain('Content-Type: text/html');
    expect(mail).toContain('authorization revoked');

    const hooks = receiver.at(path);
    expect(hooks).toHaveLength(1);
    const secret = await ctx.repos.notifications.webhookSecret(user.id);
    expect(verifyWebhookSignature(secret, hooks[0]!.body, hooks[0]!.signature)).toBe(true);
    expect(verifyWebhookSignature(`${secret}x`, hooks[0]!.body, hooks[0]!.signature)).toBe(false);
    expect(JSON.parse(hooks[0]!.body)).toEqual({
      type: 'sync.blocked',
      userId: user.id,
      group: 'reauth',
      service: 'strava',
      connectionId: strava.id,
      message: expect.stringContaining('Reconnect Strava') as unknown,
      fixUrl: `${PUBLIC_URL}/dashboard`,
      occurredAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown,
    });

    const log = await ctx.repos.notifications.listLog(user.id);
    expect(log.map((r) => [r.group_key, r.channel, r.status, r.attempts])).toEqual([
      [`reauth-${strava.id}`, 'email', 'sent', 1],
      [`reauth-${strava.id}`, 'webhook', 'sent', 1],
    ]);
    // The webhook URL's query (a token) never reaches the logs.
    expect(logLines.join('\n')).not.toContain('s3cr3t-query');
  });

  it('should notify again when a resolved group recurs', async () => {
    const { user, email, strava, path } = await setup();
    await syncHitsReauth(user.id, strava.id);
    await runQueued();
    expect(smtp.mailsTo(email)).toHaveLength(1);

    // The user reconnects; the next sync finds no blocking error of the group and forgets it.
    await ctx.repos.syncErrors.clearGroup(user.id, strava.id, 'reauth');
    expect(await service.afterSync(user.id)).toEqual({ queued: [], resolved: 2 });
    expect(await ctx.repos.notifications.listLog(user.id)).toEqual([]);

    await syncHitsReauth(user.id, strava.id);
    await runQueued();
    expect(smtp.mailsTo(email)).toHaveLength(2);
    expect(receiver.at(path)).toHaveLength(2);
  });

  it('should keep each group and connection apart', async () => {
    const { user, email, strava } = await setup({ webhook: false });
    const dropbox = await newConnection(ctx.db, user.id, { service: 'dropbox' });
    await syncHitsReauth(user.id, strava.id);
    await ctx.repos.syncErrors.record(user.id, {
      connectionId: dropbox.id,
      scope: 'connection',
      step: 'upload',
      code: 'full',
      clearGroup: 'account_full',
      message: 'insufficient_space',
      blocking: true,
      intervention: 'account_full',
    });
    // A non-blocking error and an activity-level one are no reason to write.
    await ctx.repos.syncErrors.record(user.id, {
      connectionId: dropbox.id,
      scope: 'activity',
      code: 'retry_limit',
      message: 'gave up',
      blocking: true,
      activityUid: 'a1',
    });
    await service.afterSync(user.id);
    expect(queued.map((j) => (j.name === JobName.Notify ? j.data.group : j.name)).sort()).toEqual(
      [`account_full-${dropbox.id}`, `reauth-${strava.id}`, `reauth-${strava.id}`].sort(),
    );
    await runQueued();
    const subjects = smtp.mailsTo(email).map((m) => /^Subject: (.*)$/m.exec(decodeQuotedPrintable(m.raw))?.[1]);
    expect(subjects.sort()).toEqual([
      'Tributary: tributary can no longer reach your Strava account',
      'Tributary: your Dropbox account is full',
    ]);
  });

  it('should retry a webhook that is down without emailing twice, and give up on one that refuses', async () => {
    const { user, email, strava, path } = await setup();
    receiver.statusByPath.set(path, 503);
    await syncHitsReauth(user.id, strava.id);
    const failures = await runQueued();
    expect(failures).toHaveLength(1);
    expect(failures[0]).toBeInstanceOf(NotificationDeliveryError);
    expect((failures[0] as Error).message).toContain('HTTP 503');
    expect(smtp.mailsTo(email)).toHaveLength(1);

    // BullMQ's retry: the webhook is up again; the email is not repeated.
    receiver.statusByPath.delete(path);
    await expect(service.deliver(user.id, `reauth-${strava.id}`)).resolves.toBe(JobStatus.Success);
    expect(smtp.mailsTo(email)).toHaveLength(1);
    expect(receiver.at(path)).toHaveLength(2);
    const webhookRow = (await ctx.repos.notifications.listLog(user.id)).find((r) => r.channel === 'webhook');
    expect(webhookRow).toMatchObject({ status: 'sent', attempts: 2, last_error: null });

    const other = await setup();
    receiver.statusByPath.set(other.path, 410);
    await syncHitsReauth(other.user.id, other.strava.id);
    expect(await runQueued()).toEqual([]);
    const refused = (await ctx.repos.notifications.listLog(other.user.id)).find((r) => r.channel === 'webhook');
    expect(refused).toMatchObject({ status: 'failed', last_error: 'webhook answered HTTP 410' });
    // Refused for good: later syncs queue nothing more for the group.
    await syncHitsReauth(other.user.id, other.strava.id);
    expect(queued).toEqual([]);
    expect(receiver.at(other.path)).toHaveLength(1);
  });

  it('should record a recipient the SMTP server refuses as a permanent failure', async () => {
    const { user, strava } = await setup({ webhook: false });
    await ctx.repos.notifications.updateSettings(user.id, { email: `refused-${user.id}@example.test` });
    smtp.refuse.add(`refused-${user.id}@example.test`);
    await syncHitsReauth(user.id, strava.id);
    expect(await runQueued()).toEqual([]);
    const [row] = await ctx.repos.notifications.listLog(user.id);
    expect(row).toMatchObject({ channel: 'email', status: 'failed' });
    expect(row!.last_error).toContain('550');
  });

  it('should honour the switches: nothing when disabled, no email for reauth when that flag is off', async () => {
    const { user, email, strava, path } = await setup();
    await ctx.repos.notifications.updateSettings(user.id, { enabled: false });
    await syncHitsReauth(user.id, strava.id);
    expect(queued).toEqual([]);

    await ctx.repos.notifications.updateSettings(user.id, { enabled: 'on', emailOnReauthNeeded: 'off' });
    await service.afterSync(user.id);
    await runQueued();
    expect(smtp.mailsTo(email)).toHaveLength(0);
    expect(receiver.at(path)).toHaveLength(1);
  });

  it('should refuse an http webhook for other hosts unless the server allows it', async () => {
    const { user, strava } = await setup({ webhook: false });
    // Stored while the operator allowed plain http; delivery re-checks under the current configuration.
    await ctx.repos.notifications.updateSettings(
      user.id,
      { webhookUrl: 'http://receiver.example.test/hook' },
      { allowHttpWebhooks: true },
    );
    await syncHitsReauth(user.id, strava.id);
    expect(await runQueued()).toEqual([]);
    const row = (await ctx.repos.notifications.listLog(user.id)).find((r) => r.channel === 'webhook');
    expect(row).toMatchObject({ status: 'failed' });
    expect(row!.last_error).toContain('must use https://');
  });

  it('should keep settings, secrets and logs of one user invisible to another', async () => {
    const a = await setup();
    const b = await setup({ webhook: false });
    await syncHitsReauth(a.user.id, a.strava.id);
    await runQueued();
    const before = await ctx.repos.notifications.listLog(a.user.id);
    expect(before).toHaveLength(2);

    expect(await ctx.repos.notifications.listLog(b.user.id)).toEqual([]);
    // B's sync (no open groups) forgets B's resolved groups only.
    expect(await service.afterSync(b.user.id)).toEqual({ queued: [], resolved: 0 });
    expect(await ctx.repos.notifications.listLog(a.user.id)).toEqual(before);
    // B cannot make A's group deliver: the group is looked up among B's own errors.
    await expect(service.deliver(b.user.id, `reauth-${a.strava.id}`)).resolves.toBe(JobStatus.Skipped);

    await ctx.repos.notifications.updateSettings(b.user.id, { email: 'b@example.test', webhookEnabled: false });
    const viewA = await ctx.repos.notifications.getSettings(a.user.id);
    expect(viewA.settings.email).toBeNull();
    expect(viewA.settings.webhookEnabled).toBe(true);
    expect(viewA.recipient).toBe(a.email);
    expect((await ctx.repos.notifications.getSettings(b.user.id)).recipient).toBe('b@example.test');
    expect(await ctx.repos.notifications.webhookSecret(a.user.id)).not.toBe(
      await ctx.repos.notifications.webhookSecret(b.user.id),
    );
  });

  it('should reject bad settings with clear messages and store nothing', async () => {
    const { user } = await setup({ webhook: false });
    const attempt = ctx.repos.notifications.updateSettings(user.id, {
      email: 'not-an-address',
      webhookUrl: 'http://example.com/hook',
      emailOnBlockingError: 'maybe',
      colour: 'blue',
    });
    await expect(attempt).rejects.toBeInstanceOf(ValidationError);
    await expect(attempt).rejects.toThrow(
      /Notification email is not a valid email address; Email on blocking errors must be true or false; Webhook URL must use https:\/\/.*; colour is not a notification setting/,
    );
    await expect(
      ctx.repos.notifications.updateSettings(user.id, { webhookUrl: 'https://user:pw@example.com/hook' }),
    ).rejects.toThrow('Webhook URL must not contain a user name or password');
    const view = await ctx.repos.notifications.getSettings(user.id);
    expect(view.settings).toMatchObject({ email: null, webhookUrl: null, emailOnBlockingError: true });
    // The other user settings survive a notification settings update.
    await ctx.repos.users.updateSettings(user.id, { uploadDelaySeconds: 900 });
    await ctx.repos.notifications.updateSettings(user.id, { email: ' me@example.test ' });
    expect(await ctx.repos.users.getSettings(user.id)).toMatchObject({
      uploadDelaySeconds: 900,
      notifications: { email: 'me@example.test', emailOnReauthNeeded: true },
    });
  });

  it('should keep one webhook secret per user until rotated, and re-encrypt it under a new key', async () => {
    const { user } = await setup({ webhook: false });
    const [first, again] = await Promise.all([
      ctx.repos.notifications.webhookSecret(user.id),
      ctx.repos.notifications.webhookSecret(user.id),
    ]);
    expect(first).toBe(again);
    expect(first).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect((await ctx.repos.notifications.getSettings(user.id)).webhookSecretCreated).toBe(true);
    const rotated = await ctx.repos.notifications.rotateWebhookSecret(user.id);
    expect(rotated).not.toBe(first);
    expect(await ctx.repos.notifications.webhookSecret(user.id)).toBe(rotated);

    // `keys rotate`: a new key goes first, the old one stays readable; afterwards the old key can be removed.
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const before = new NotificationRepository(ctx.db, new Keyring([{ id: 'old', key: oldKey }]));
    const secret = await before.rotateWebhookSecret(user.id);
    const both = new Keyring([
      { id: 'new', key: newKey },
      { id: 'old', key: oldKey },
    ]);
    const report = await new NotificationRepository(ctx.db, both).reencryptSecrets(both);
    // Secrets of other users in the shared database are under the test keyring, which `both` cannot read.
    expect(report.failed.map((f) => f.userId)).not.toContain(user.id);
    expect(report.reencrypted).toBeGreaterThanOrEqual(1);
    const after = new NotificationRepository(ctx.db, new Keyring([{ id: 'new', key: newKey }]));
    expect(await after.webhookSecret(user.id)).toBe(secret);
  });

  it('should answer not found for unknown users and skip malformed group keys', async () => {
    await expect(ctx.repos.notifications.getSettings('00000000-0000-4000-8000-000000000000')).rejects.toThrow(
      'not found',
    );
    await expect(service.deliver('00000000-0000-4000-8000-000000000000', 'reauth-account')).resolves.toBe(
      JobStatus.Skipped,
    );
    const { user } = await setup({ webhook: false });
    await expect(service.deliver(user.id, 'reauth:../../etc')).resolves.toBe(JobStatus.Skipped);
  });
});
