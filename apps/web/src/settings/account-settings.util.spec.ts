import { ValidationError } from '@tributary/common';
import { isIanaTimeZone, notificationFormInput, parseSyncSettingsForm } from './account-settings.util';

describe(parseSyncSettingsForm.name, () => {
  it('should turn a valid form into settings', () => {
    expect(
      parseSyncSettingsForm({
        sync: 'manual',
        uploadDelayMinutes: '30',
        skipBefore: '2024-02-29',
        timezone: 'Europe/Berlin',
      }),
    ).toEqual({
      autoSync: false,
      uploadDelaySeconds: 1800,
      skipBefore: '2024-02-29T00:00:00.000Z',
      timezoneFallback: 'Europe/Berlin',
    });
    expect(parseSyncSettingsForm({ sync: 'auto', uploadDelayMinutes: '', skipBefore: '', timezone: '' })).toEqual({
      autoSync: true,
      uploadDelaySeconds: 0,
      skipBefore: null,
      timezoneFallback: null,
    });
  });

  it('should name every bad field at once', () => {
    let caught: unknown;
    try {
      parseSyncSettingsForm({
        sync: 'sometimes',
        uploadDelayMinutes: '-5',
        skipBefore: '2023-02-30',
        timezone: 'Mars/Olympus',
      });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    const fields = (caught as ValidationError).details?.fields as Record<string, string>;
    expect(Object.keys(fields).sort()).toEqual(['skipBefore', 'sync', 'timezone', 'uploadDelayMinutes']);
    expect(fields.timezone).toContain('Mars/Olympus');
  });
});

describe(isIanaTimeZone.name, () => {
  it('should accept real zones and refuse made-up or hostile ones', () => {
    expect(isIanaTimeZone('America/Argentina/Buenos_Aires')).toBe(true);
    expect(isIanaTimeZone('UTC')).toBe(true);
    expect(isIanaTimeZone('Europe/Atlantis')).toBe(false);
    expect(isIanaTimeZone('<script>')).toBe(false);
    expect(isIanaTimeZone('')).toBe(false);
  });
});

describe(notificationFormInput.name, () => {
  it('should send unticked checkboxes as off', () => {
    expect(notificationFormInput({ notifyEnabled: 'on', notifyEmail: 'a@b.test' })).toEqual({
      enabled: 'on',
      email: 'a@b.test',
      emailOnBlockingError: 'off',
      emailOnReauthNeeded: 'off',
      webhookUrl: '',
      webhookEnabled: 'off',
    });
  });
});
