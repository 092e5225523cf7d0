import { createLogger } from '@tributary/common';
import { type ConnectionView } from '@tributary/db';
import { type EnqueueOptions, type JobItem, JobName } from '@tributary/queue';
import { WEBHOOK_FOLLOW_UP_DELAY_MS, WebhookIngestService } from './webhook-ingest.service';

function fakes() {
  const enqueued: { item: JobItem; options?: EnqueueOptions }[] = [];
  const triggered: string[] = [];
  const connection = { id: 'c1', user_id: 'u1', service: 'strava', external_user_id: '42' } as ConnectionView;
  const sut = new WebhookIngestService({
    connections: {
      findByServiceAccount: (_service, account) => Promise.resolve(account === '42' ? connection : undefined),
      setStatus: () => Promise.resolve(),
      setTriggerPartialSync: (_userId, connectionId) => {
        triggered.push(connectionId);
        return Promise.resolve();
      },
    },
    syncErrors: { record: () => Promise.reject(new TypeError('not expected')) },
    ledger: { isOwnUpload: (_userId, _connectionId, remoteId) => Promise.resolve(remoteId === 'ours-1') },
    jobs: {
      enqueue: (item, options) => {
        enqueued.push({ item, options });
        return Promise.resolve({ jobId: 'j', added: true });
      },
    },
    logger: createLogger({ level: 'silent' }),
    debounceMs: 30_000,
  });
  return { sut, enqueued, triggered };
}

describe(WebhookIngestService.name, () => {
  it('should queue a debounced sync and a later follow-up for an announced activity', async () => {
    const { sut, enqueued, triggered } = fakes();
    await expect(
      sut.ingest('strava', [{ externalUserId: '42', kind: 'activity_created', objectId: '777' }]),
    ).resolves.toEqual({ matched: 1, ignored: 0 });
    expect(triggered).toEqual(['c1']);
    expect(enqueued).toEqual([
      {
        item: { name: JobName.SyncUser, data: { userId: 'u1', trigger: 'webhook' } },
        options: expect.objectContaining({ delayMs: 30_000 }) as unknown,
      },
      {
        item: { name: JobName.WebhookEvent, data: { userId: 'u1', connectionId: 'c1', eventId: '777' } },
        options: { delayMs: 30_000 + WEBHOOK_FOLLOW_UP_DELAY_MS },
      },
    ]);
  });

  it("should neither sync nor follow up the event announcing the hub's own upload", async () => {
    const { sut, enqueued, triggered } = fakes();
    await expect(
      sut.ingest('strava', [{ externalUserId: '42', kind: 'activity_created', objectId: 'ours-1' }]),
    ).resolves.toEqual({ matched: 1, ignored: 0 });
    expect(triggered).toEqual([]);
    expect(enqueued).toEqual([]);
  });

  it('should sync without a follow-up for a change notice that names no activity', async () => {
    const { sut, enqueued } = fakes();
    await sut.ingest('dropbox', [{ externalUserId: '42', kind: 'changed' }]);
    expect(enqueued.map((e) => e.item.name)).toEqual([JobName.SyncUser]);
  });

  it('should neither sync nor follow up deletions and ignore unknown accounts', async () => {
    const { sut, enqueued, triggered } = fakes();
    await expect(
      sut.ingest('strava', [
        { externalUserId: '42', kind: 'activity_deleted', objectId: '1' },
        { externalUserId: '99', kind: 'activity_created', objectId: '2' },
      ]),
    ).resolves.toEqual({ matched: 1, ignored: 1 });
    expect(enqueued).toEqual([]);
    expect(triggered).toEqual([]);
  });
});
