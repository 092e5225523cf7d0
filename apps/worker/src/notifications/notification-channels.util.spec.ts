import { classifySmtpError, postWebhook, redactUrl } from './notification-channels.util';
import { verifyWebhookSignature } from './webhook-signature.util';

describe('classifySmtpError', () => {
  it('should treat 5xx answers and bad envelopes as permanent, the rest as retryable', () => {
    expect(classifySmtpError({ code: 'EENVELOPE', message: 'No recipients defined' })).toMatchObject({
      permanent: true,
    });
    expect(classifySmtpError({ code: 'EMESSAGE', responseCode: 550, message: 'mailbox unavailable' })).toEqual({
      ok: false,
      permanent: true,
      error: 'EMESSAGE 550: mailbox unavailable',
    });
    expect(classifySmtpError({ code: 'EAUTH', responseCode: 535, message: 'bad login' })).toMatchObject({
      permanent: false,
    });
    expect(classifySmtpError({ code: 'ECONNECTION', message: 'refused' })).toMatchObject({ permanent: false });
    expect(classifySmtpError({ responseCode: 451, message: 'greylisted' })).toMatchObject({ permanent: false });
  });
});

describe('redactUrl', () => {
  it('should keep scheme, host and path but drop the query', () => {
    expect(redactUrl('https://hooks.example.com/a/b?token=secret#x')).toBe('https://hooks.example.com/a/b');
    expect(redactUrl('not a url')).toBe('(invalid URL)');
  });
});

describe('postWebhook', () => {
  const base = { body: '{"a":1}', secret: 's', allowHttpWebhooks: false, nowSeconds: 1_800_000_000 };

  function answering(status: number) {
    const calls: { url: string; init: RequestInit }[] = [];
    const fetchImpl: typeof fetch = (url, init) => {
      calls.push({ url: typeof url === 'string' ? url : url instanceof URL ? url.href : url.url, init: init ?? {} });
      return Promise.resolve(new Response(null, { status }));
    };
    return { calls, fetchImpl };
  }

  it('should POST the signed body without following redirects', async () => {
    const { calls, fetchImpl } = answering(200);
    await expect(postWebhook({ ...base, url: 'https://h.example/x', fetchImpl })).resolves.toEqual({ ok: true });
    const [call] = calls;
    expect(call?.init).toMatchObject({ method: 'POST', redirect: 'manual', body: '{"a":1}' });
    const headers = call?.init.headers as Record<string, string>;
    const signature = headers['X-Tributary-Signature'];
    expect(verifyWebhookSignature('s', '{"a":1}', signature, { nowSeconds: 1_800_000_000 })).toBe(true);
  });

  it.each([
    [500, false],
    [503, false],
    [429, false],
    [408, false],
    [400, true],
    [404, true],
    [410, true],
    [302, true],
  ])('should classify HTTP %i as permanent=%s', async (status, permanent) => {
    const { fetchImpl } = answering(status);
    await expect(postWebhook({ ...base, url: 'https://h.example/x', fetchImpl })).resolves.toMatchObject({
      ok: false,
      permanent,
    });
  });

  it('should retry network errors and timeouts', async () => {
    const fetchImpl = (() =>
      Promise.reject(
        Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }),
      )) as typeof fetch;
    await expect(postWebhook({ ...base, url: 'https://h.example/x', fetchImpl })).resolves.toEqual({
      ok: false,
      permanent: false,
      error: 'webhook request failed: ECONNREFUSED',
    });
    const timeout = (() => Promise.reject(new DOMException('timed out', 'TimeoutError'))) as typeof fetch;
    await expect(postWebhook({ ...base, url: 'https://h.example/x', fetchImpl: timeout })).resolves.toMatchObject({
      permanent: false,
      error: 'webhook request failed: no answer within 10 s',
    });
  });

  it('should refuse plain http to other hosts without calling them, unless allowed', async () => {
    const { calls, fetchImpl } = answering(200);
    await expect(postWebhook({ ...base, url: 'http://h.example/x', fetchImpl })).resolves.toMatchObject({
      ok: false,
      permanent: true,
    });
    expect(calls).toHaveLength(0);
    await expect(
      postWebhook({ ...base, url: 'http://h.example/x', allowHttpWebhooks: true, fetchImpl }),
    ).resolves.toEqual({ ok: true });
    await expect(postWebhook({ ...base, url: 'http://localhost:9/x', fetchImpl })).resolves.toEqual({ ok: true });
  });
});
