import { ValidationError } from '@tributary/common';
import { parseNotificationSettings, webhookUrlProblem } from './notification-settings.schema';

describe('parseNotificationSettings', () => {
  it('should return only the keys given, normalised from form values', () => {
    expect(
      parseNotificationSettings({
        enabled: 'on',
        emailOnBlockingError: 'off',
        email: '  me@example.com ',
        webhookUrl: '',
      }),
    ).toEqual({ enabled: true, emailOnBlockingError: false, email: 'me@example.com', webhookUrl: null });
    expect(parseNotificationSettings({})).toEqual({});
    expect(parseNotificationSettings({ webhookEnabled: false, email: null })).toEqual({
      webhookEnabled: false,
      email: null,
    });
  });

  it('should name every bad field in the message and in details.fields', () => {
    let caught: unknown;
    try {
      parseNotificationSettings({ email: 'x@', webhookUrl: 'ftp://example.com', enabled: 'sometimes', extra: 1 });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    const err = caught as ValidationError;
    expect(err.message).toBe(
      'Notifications must be true or false; Notification email is not a valid email address; ' +
        'Webhook URL must start with https://; extra is not a notification setting',
    );
    expect(err.details).toEqual({
      fields: {
        enabled: 'must be true or false',
        email: 'is not a valid email address',
        webhookUrl: 'must start with https://',
        extra: 'is not a notification setting',
      },
    });
  });

  it('should refuse input that is not an object', () => {
    for (const bad of [null, 'x', [], 3]) {
      expect(() => parseNotificationSettings(bad)).toThrow('Notification settings must be an object');
    }
  });

  it('should allow plain http only for loopback hosts unless the server allows it', () => {
    expect(webhookUrlProblem('https://example.com/hook?x=1')).toBeUndefined();
    expect(webhookUrlProblem('http://localhost:8080/hook')).toBeUndefined();
    expect(webhookUrlProblem('http://127.0.0.1/hook')).toBeUndefined();
    expect(webhookUrlProblem('http://[::1]/hook')).toBeUndefined();
    expect(webhookUrlProblem('http://example.com/hook')).toBe(
      'must use https:// (plain http is only allowed for localhost)',
    );
    expect(webhookUrlProblem('http://example.com/hook', { allowHttpWebhooks: true })).toBeUndefined();
    expect(webhookUrlProblem('https://example.com/#frag')).toBe('must not contain a #fragment');
    expect(webhookUrlProblem('nope')).toBe('is not a valid URL');
    expect(() => parseNotificationSettings({ webhookUrl: `https://e.com/${'a'.repeat(2000)}` })).toThrow(
      'Webhook URL is longer than 2000 characters',
    );
  });
});
