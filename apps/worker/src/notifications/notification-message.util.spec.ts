import { buildNotificationMessage } from './notification-message.util';

const group = {
  key: 'account_full-c1',
  group: 'account_full',
  connectionId: 'c1',
  message: 'quota <exceeded> & "full"',
  occurredAt: new Date('2026-03-04T05:06:07Z'),
};

describe('buildNotificationMessage', () => {
  it('should name the service, the fix and the dashboard link in both parts', () => {
    const sut = buildNotificationMessage({ userId: 'u1', group, service: 'dropbox', publicUrl: 'https://hub.test/' });
    expect(sut.subject).toBe('Tributary: your Dropbox account is full');
    expect(sut.text).toContain('Free up space at Dropbox');
    expect(sut.text).toContain('https://hub.test/dashboard');
    expect(sut.html).toContain('<a href="https://hub.test/dashboard">');
    expect(sut.payload).toEqual({
      type: 'sync.blocked',
      userId: 'u1',
      group: 'account_full',
      service: 'dropbox',
      connectionId: 'c1',
      message: expect.stringContaining('Your Dropbox account is full.') as unknown,
      fixUrl: 'https://hub.test/dashboard',
      occurredAt: '2026-03-04T05:06:07.000Z',
    });
  });

  it('should escape the upstream message in the HTML part', () => {
    const sut = buildNotificationMessage({ userId: 'u1', group, service: 'dropbox', publicUrl: 'https://hub.test' });
    expect(sut.html).not.toContain('<exceeded>');
    expect(sut.html).toContain('quota &#60;exceeded&#62; &#38; &#34;full&#34;');
  });

  it('should use canonical service ids and a generic text for groups without their own', () => {
    const sut = buildNotificationMessage({
      userId: 'u1',
      group: { ...group, group: 'system', connectionId: null },
      service: 'garmin-connect',
      publicUrl: 'https://hub.test',
    });
    expect(sut.payload.service).toBe('garmin_connect');
    expect(sut.subject).toBe('Tributary: syncing with Garmin Connect is blocked');
  });
});
