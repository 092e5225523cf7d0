import { createHmac } from 'node:crypto';
import { signWebhookBody, verifyWebhookSignature } from './webhook-signature.util';

describe('webhook signatures', () => {
  const secret = 'whsec_test';
  const body = '{"type":"sync.blocked"}';
  const t = 1_800_000_000;

  it('should sign "<t>.<body>" with HMAC-SHA256, the way receivers recompute it', () => {
    const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
    expect(signWebhookBody(secret, body, t)).toBe(`t=${t},v1=${expected}`);
  });

  it('should accept its own signature and refuse a changed body, secret or timestamp', () => {
    const header = signWebhookBody(secret, body, t);
    expect(verifyWebhookSignature(secret, body, header, { nowSeconds: t + 10 })).toBe(true);
    expect(verifyWebhookSignature(secret, `${body} `, header, { nowSeconds: t })).toBe(false);
    expect(verifyWebhookSignature('other', body, header, { nowSeconds: t })).toBe(false);
    expect(verifyWebhookSignature(secret, body, header.replace(`t=${t}`, `t=${t + 1}`), { nowSeconds: t })).toBe(false);
  });

  it('should refuse replays older than the tolerance and malformed headers', () => {
    const header = signWebhookBody(secret, body, t);
    expect(verifyWebhookSignature(secret, body, header, { nowSeconds: t + 301 })).toBe(false);
    expect(verifyWebhookSignature(secret, body, header, { nowSeconds: t + 3600, toleranceSeconds: 7200 })).toBe(true);
    for (const bad of [undefined, '', 'v1=abc', `t=${t}`, `t=x,v1=${'0'.repeat(64)}`, `t=${t},v1=zz`]) {
      expect(verifyWebhookSignature(secret, body, bad, { nowSeconds: t })).toBe(false);
    }
  });

  it('should accept a header listing an old and a new signature when one matches', () => {
    const good = signWebhookBody(secret, body, t).split(',')[1]!;
    const header = `t=${t},v1=${'0'.repeat(64)},${good}`;
    expect(verifyWebhookSignature(secret, body, header, { nowSeconds: t })).toBe(true);
  });
});
