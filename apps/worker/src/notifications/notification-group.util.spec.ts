import { type SyncErrorRow } from '@tributary/db';
import { blockingGroups, isNotificationGroupKey, notificationGroupKey } from './notification-group.util';

const CONN = '11111111-2222-4333-8444-555555555555';

function row(overrides: Partial<SyncErrorRow>): SyncErrorRow {
  return {
    id: 'e',
    user_id: 'u',
    connection_id: CONN,
    scope: 'connection',
    step: 'list',
    code: 'auth',
    clear_group: 'reauth',
    message: 'revoked',
    blocking: true,
    intervention: 'reauth',
    trigger_exhaustive: true,
    activity_uid: null,
    first_at: new Date('2026-01-02T00:00:00Z'),
    last_at: new Date('2026-01-02T00:00:00Z'),
    count: 1,
    cleared_at: null,
    ...overrides,
  };
}

describe('blockingGroups', () => {
  it('should merge the errors of one intervention group on one connection, newest message, oldest time', () => {
    const sut = blockingGroups([
      row({ code: 'auth', message: 'old', first_at: new Date('2026-01-01T00:00:00Z') }),
      row({ code: 'renew_password', message: 'new', last_at: new Date('2026-01-03T00:00:00Z') }),
    ]);
    expect(sut).toEqual([
      {
        key: `reauth-${CONN}`,
        group: 'reauth',
        connectionId: CONN,
        message: 'new',
        occurredAt: new Date('2026-01-01T00:00:00Z'),
      },
    ]);
  });

  it('should leave out non-blocking, cleared and activity-level errors', () => {
    expect(
      blockingGroups([
        row({ blocking: false }),
        row({ cleared_at: new Date() }),
        row({ scope: 'activity', activity_uid: 'a', code: 'retry_limit', intervention: null }),
      ]),
    ).toEqual([]);
  });

  it('should key account-wide errors without an intervention by their code', () => {
    const [sut] = blockingGroups([row({ scope: 'account', connection_id: null, intervention: null, code: 'system' })]);
    expect(sut?.key).toBe('system-account');
  });
});

describe('notification group keys', () => {
  it('should only accept keys the hub builds, which are safe as BullMQ job ids', () => {
    expect(isNotificationGroupKey(notificationGroupKey('account_full', CONN))).toBe(true);
    expect(isNotificationGroupKey(notificationGroupKey('reauth', null))).toBe(true);
    for (const bad of ['reauth', `reauth:${CONN}`, 'Reauth-account', `reauth-${CONN}-x`, '-account']) {
      expect(isNotificationGroupKey(bad)).toBe(false);
    }
  });
});
