import { DEFAULT_USER_SETTINGS } from '../schema';
import { resolveSettings } from './user.repository';

describe('resolveSettings', () => {
  it('should fill in missing keys, including nested notification keys, from the defaults', () => {
    const sut = resolveSettings({ uploadDelaySeconds: 600, notifications: { emailOnBlockingError: false } as never });
    expect(sut).toEqual({
      ...DEFAULT_USER_SETTINGS,
      uploadDelaySeconds: 600,
      notifications: { ...DEFAULT_USER_SETTINGS.notifications, emailOnBlockingError: false },
    });
  });

  it('should return the defaults for an empty document without sharing them', () => {
    const sut = resolveSettings({});
    expect(sut).toEqual(DEFAULT_USER_SETTINGS);
    sut.notifications.emailOnReauthNeeded = false;
    expect(DEFAULT_USER_SETTINGS.notifications.emailOnReauthNeeded).toBe(true);
  });
});
