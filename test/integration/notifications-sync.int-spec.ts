import { randomBytes } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { type INestApplicationContext } from '@nestjs/common';
import { Keyring, PermanentError, connectRedis, createLogger, type RedisConnection } from '@tributary/common';
import { type AppConfig, loadConfig } from '@tributary/config';
import { createRepositories, type Repositories } from '@tributary/db';
import { JobName, JobService, QueueName } from '@tributary/queue';
import { type SandboxHandle, startSandbox } from '../../apps/sandbox/src';
import { verifyWebhookSignature } from '../../apps/worker/src/notifications/webhook-signature.util';
import { WorkerModule } from '../../apps/worker/src/worker.module';
import { SmtpSink, WebhookReceiver, decodeQuotedPrintable } from './support/notification-sinks';
import {
  SANDBOX_DROPBOX_APP,
  SANDBOX_STRAVA_APP,
  type SandboxControl,
  newSandboxAccounts,
  sandboxControl,
} from './support/sandbox-users';
import { createTestContext, type TestContext } from './support/test-db';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PUBLIC_URL = 'https://tributary.example.test';

/**
 * The whole path: a worker booted with the sync role syncs a user whose Strava authorization was revoked at the
 * sandbox, the sync processor's hook queues a Notify job, the same worker delivers it to the SMTP sink and the
 * webhook receiver. A second sync that hits the same blocked connection sends nothing more.
 */
describe('notifications after a real sync', () => {
  let sb: SandboxHandle;
  let control: SandboxControl;
  let ctx: TestContext;
  let repos: Repositories;
  let redis: RedisConnection;
  let jobs: JobService;
  let prefix: string;
  let config: AppConfig;
  let smtp: SmtpSink;
  let receiver: WebhookReceiver;
  let app: INestApplicationContext;

  async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new PermanentError('test_timeout', `timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async function queueIdle(): Promise<boolean> {
    const counts = await jobs.counts(QueueName.Sync);
    return counts.waiting + counts.active + counts.delayed === 0;
  }

  beforeAll(async () => {
    sb = await startSandbox({ port: 0 });
    control = sandboxControl(sb);
    smtp = new SmtpSink();
    receiver = new WebhookReceiver();
    await Promise.all([smtp.start(), receiver.start()]);
    redis = await connectRedis({ url: REDIS_URL, startPrivate: false });
    prefix = `test-notify-${randomBytes(6).toString('hex')}`;
    jobs = new JobService(redis, prefix);
    config = loadConfig({
      WORKER_ROLES: 'sync',
      TRIBUTARY_QUEUE_PREFIX: prefix,
      TRIBUTARY_PUBLIC_URL: PUBLIC_URL,
      TRIBUTARY_ENCRYPTION_KEYS: `n${randomBytes(3).toString('hex')}:${randomBytes(32).toString('base64')}`,
      SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
      SMTP_FROM: 'Tributary <hub@example.test>',
      STRAVA_BASE_URL: sb.urls.strava,
      STRAVA_CLIENT_ID: SANDBOX_STRAVA_APP.clientId,
      STRAVA_CLIENT_SECRET: SANDBOX_STRAVA_APP.clientSecret,
      DROPBOX_BASE_URL: sb.urls.dropboxApi,
      DROPBOX_CONTENT_URL: sb.urls.dropboxContent,
      DROPBOX_NOTIFY_URL: sb.urls.dropboxNotify,
      DROPBOX_CLIENT_ID: SANDBOX_DROPBOX_APP.clientId,
      DROPBOX_CLIENT_SECRET: SANDBOX_DROPBOX_APP.clientSecret,
    });
    ctx = createTestContext();
    // The worker must read the credentials, so they are stored under its keyring.
    repos = createRepositories(ctx.db, new Keyring(config.encryptionKeys));
    app = await NestFactory.createApplicationContext(
      WorkerModule.forRoot({
        config,
        logger: createLogger({ level: 'silent' }),
        connection: redis,
        jobs,
        stats: { record: () => Promise.resolve() },
        database: { db: ctx.db, kind: 'server', ping: () => Promise.resolve(), close: () => Promise.resolve() },
      }),
      { logger: false, abortOnError: false },
    );
  });

  afterAll(async () => {
    await app?.close();
    await jobs?.close();
    if (redis !== undefined) {
      const cleanup = redis.createClient('cleanup');
      const keys = await cleanup.keys(`${prefix}:*`);
      if (keys.length > 0) await cleanup.del(...keys);
      await redis.close();
    }
    await Promise.all([smtp?.stop(), receiver?.stop(), sb?.close()]);
    await ctx?.close();
  });

  it('should email and call the webhook once for a revoked connection, across two syncs', async () => {
    const u = await newSandboxAccounts({ control }, ctx.db, repos, { services: ['strava', 'dropbox'] });
    const user = { id: u.userId, email: u.email };
    const hookPath = `/hooks/${user.id}`;
    await repos.notifications.updateSettings(user.id, { webhookUrl: receiver.url(hookPath) });
    await control('POST', '/strava/revoke', { athlete: u.athleteId });

    const finishedRuns = async () =>
      (await repos.syncRuns.listRecent(user.id)).filter((r) => r.status !== 'queued' && r.status !== 'running');

    await jobs.enqueue({ name: JobName.SyncUser, data: { userId: user.id, trigger: 'manual' } });
    await until('the notification email', () => smtp.mailsTo(user.email).length === 1);
    await until('the webhook call', () => receiver.at(hookPath).length === 1);

    await jobs.enqueue({ name: JobName.SyncUser, data: { userId: user.id, trigger: 'manual' } });
    await until('the second sync', async () => (await finishedRuns()).length === 2);
    await until('an idle queue', queueIdle);

    expect(smtp.mailsTo(user.email)).toHaveLength(1);
    expect(receiver.at(hookPath)).toHaveLength(1);
    const mail = decodeQuotedPrintable(smtp.mailsTo(user.email)[0]!.raw);
    expect(mail).toContain('Subject: Tributary: tributary can no longer reach your Strava account');
    expect(mail).toContain(`${PUBLIC_URL}/dashboard`);
    const [hook] = receiver.at(hookPath);
    const secret = await repos.notifications.webhookSecret(user.id);
    expect(verifyWebhookSignature(secret, hook!.body, hook!.signature)).toBe(true);
    expect(JSON.parse(hook!.body)).toMatchObject({
      type: 'sync.blocked',
      userId: user.id,
      group: 'reauth',
      service: 'strava',
      connectionId: u.connections.strava,
      fixUrl: `${PUBLIC_URL}/dashboard`,
    });
  });
});
