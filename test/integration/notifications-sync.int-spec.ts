import { randomBytes, randomInt } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { type INestApplicationContext } from '@nestjs/common';
import { Keyring, PermanentError, connectRedis, createLogger, type RedisConnection } from '@tributary/common';
import { type AppConfig, loadConfig } from '@tributary/config';
import { createRepositories, type Repositories } from '@tributary/db';
import { JobName, JobService, QueueName } from '@tributary/queue';
import { type SandboxHandle, startSandbox } from '../../apps/sandbox/src';
import { verifyWebhookSignature } from '../../apps/worker/src/notifications/webhook-signature.util';
import { WorkerModule } from '../../apps/worker/src/worker.module';
import { newUser } from './support/factories';
import { SmtpSink, WebhookReceiver, decodeQuotedPrintable } from './support/notification-sinks';
import { createTestContext, type TestContext } from './support/test-db';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const STRAVA_APP = { clientId: '12345', clientSecret: 'sandbox-strava-secret' };
const DROPBOX_APP = { clientId: 'sandbox-dropbox-key', clientSecret: 'sandbox-dropbox-secret' };
const PUBLIC_URL = 'https://tributary.example.test';

/**
 * The whole path: a worker booted with the sync role syncs a user whose Strava authorization was revoked at the
 * sandbox, the sync processor's hook queues a Notify job, the same worker delivers it to the SMTP sink and the
 * webhook receiver. A second sync that hits the same blocked connection sends nothing more.
 */
describe('notifications after a real sync', () => {
  let sb: SandboxHandle;
  let ctx: TestContext;
  let repos: Repositories;
  let redis: RedisConnection;
  let jobs: JobService;
  let prefix: string;
  let config: AppConfig;
  let smtp: SmtpSink;
  let receiver: WebhookReceiver;
  let app: INestApplicationContext;

  async function control<T = unknown>(method: string, route: string, body?: unknown): Promise<T> {
    const res = await fetch(`${sb.urls.control}${route}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 400) throw new TypeError(`control ${method} ${route}: ${res.status} ${text}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

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
      STRAVA_CLIENT_ID: STRAVA_APP.clientId,
      STRAVA_CLIENT_SECRET: STRAVA_APP.clientSecret,
      DROPBOX_BASE_URL: sb.urls.dropboxApi,
      DROPBOX_CONTENT_URL: sb.urls.dropboxContent,
      DROPBOX_NOTIFY_URL: sb.urls.dropboxNotify,
      DROPBOX_CLIENT_ID: DROPBOX_APP.clientId,
      DROPBOX_CLIENT_SECRET: DROPBOX_APP.clientSecret,
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
    const user = await newUser(ctx.db);
    const tag = randomBytes(4).toString('hex');
    const strava = await control<{ athlete: { id: number }; token: Record<string, string | number> }>(
      'POST',
      '/strava/athletes',
      // A random athlete id: suites running in parallel each start a sandbox but share the database.
      { id: randomInt(100_000_000, 2_000_000_000), firstname: `n${tag}`, token: {} },
    );
    const dropbox = await control<{ accountId: string; token: Record<string, string | number> }>(
      'POST',
      '/dropbox/accounts',
      { token: { offline: true } },
    );
    const stravaConnection = await repos.connections.connect(user.id, {
      service: 'strava',
      externalUserId: String(strava.athlete.id),
      credentials: {
        accessToken: strava.token.access_token,
        refreshToken: strava.token.refresh_token,
        expiresAt: strava.token.expires_at,
      },
    });
    await repos.connections.connect(user.id, {
      service: 'dropbox',
      externalUserId: dropbox.accountId,
      credentials: {
        accessToken: dropbox.token.access_token,
        refreshToken: dropbox.token.refresh_token,
        expiresAt: dropbox.token.expires_at,
      },
      config: { folder: '/Tributary' },
    });
    const hookPath = `/hooks/${user.id}`;
    await repos.notifications.updateSettings(user.id, { webhookUrl: receiver.url(hookPath) });
    await control('POST', '/strava/revoke', { athlete: strava.athlete.id });

    const finishedRuns = async () =>
      (await repos.syncRuns.listRecent(user.id)).filter((r) => r.status !== 'queued' && r.status !== 'running');

    await jobs.enqueue({ name: JobName.SyncUser, data: { userId: user.id, trigger: 'manual' } });
    await until('the notification email', () => smtp.mailsTo(user.email!).length === 1);
    await until('the webhook call', () => receiver.at(hookPath).length === 1);

    await jobs.enqueue({ name: JobName.SyncUser, data: { userId: user.id, trigger: 'manual' } });
    await until('the second sync', async () => (await finishedRuns()).length === 2);
    await until('an idle queue', queueIdle);

    expect(smtp.mailsTo(user.email!)).toHaveLength(1);
    expect(receiver.at(hookPath)).toHaveLength(1);
    const mail = decodeQuotedPrintable(smtp.mailsTo(user.email!)[0]!.raw);
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
      connectionId: stravaConnection.id,
      fixUrl: `${PUBLIC_URL}/dashboard`,
    });
  });
});
