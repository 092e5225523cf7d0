import { checkNewPassword, decoyHash, hashPassword, verifyPassword } from './password-hash.util';

describe('password hashing', () => {
  it('should verify the right password and refuse a wrong one, with a fresh salt per hash', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[\w-]+\$[\w-]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse batterx', a)).toBe(false);
  });

  it('should never match a malformed stored hash or the decoy', async () => {
    expect(await verifyPassword('anything', 'plain-text')).toBe(false);
    expect(await verifyPassword('anything', 'scrypt$x$8$1$c2FsdA$a2V5')).toBe(false);
    expect(await verifyPassword('', await decoyHash())).toBe(false);
  });

  it('should refuse passwords that are too short or too long', () => {
    expect(() => checkNewPassword('short')).toThrow(/at least 10/);
    expect(() => checkNewPassword('x'.repeat(257))).toThrow(/at most 256/);
    expect(() => checkNewPassword('long enough pass')).not.toThrow();
  });
});
