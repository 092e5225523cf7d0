import { randomBytes } from 'node:crypto';
import { ConfigError, PermanentError } from '../errors/domain.error';
import {
  CiphertextTamperedError,
  Keyring,
  MalformedCiphertextError,
  UnknownEncryptionKeyError,
  keyIdOf,
} from './keyring.util';

const k = (id: string) => ({ id, key: randomBytes(32) });

describe(Keyring.name, () => {
  const a = k('a');
  const b = k('b');

  it('should round-trip text and JSON under the first key', () => {
    const sut = new Keyring([a, b]);
    const ct = sut.encrypt('refresh-token-ü');
    expect(ct).toMatch(/^v1:a:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]*$/);
    expect(sut.decrypt(ct)).toBe('refresh-token-ü');
    expect(sut.decryptJson(sut.encryptJson({ token: 't', exp: 5 }))).toEqual({ token: 't', exp: 5 });
    expect(ct).not.toContain('refresh');
  });

  it('should use a fresh iv each time', () => {
    const sut = new Keyring([a]);
    expect(sut.encrypt('same')).not.toBe(sut.encrypt('same'));
  });

  it('should decrypt with any key in the ring and re-encrypt under the current one', () => {
    const old = new Keyring([b]);
    const ct = old.encrypt('secret');
    const sut = new Keyring([a, b]);
    expect(sut.needsReencryption(ct)).toBe(true);
    const fresh = sut.reencrypt(ct);
    expect(keyIdOf(fresh)).toBe('a');
    expect(sut.needsReencryption(fresh)).toBe(false);
    expect(new Keyring([a]).decrypt(fresh)).toBe('secret');
  });

  it('should reject an unknown key id with a permanent error', () => {
    const ct = new Keyring([b]).encrypt('x');
    const sut = new Keyring([a]);
    expect(() => sut.decrypt(ct)).toThrow(UnknownEncryptionKeyError);
    expect(() => sut.decrypt(ct)).toThrow(PermanentError);
  });

  it('should detect a flipped bit in body, tag or iv', () => {
    const sut = new Keyring([a]);
    const ct = sut.encrypt('some secret payload');
    const parts = ct.split(':');
    for (const i of [2, 3, 4]) {
      const bytes = Buffer.from(parts[i] as string, 'base64');
      bytes[0] = (bytes[0] as number) ^ 1;
      const tampered = [...parts];
      tampered[i] = bytes.toString('base64');
      expect(() => sut.decrypt(tampered.join(':'))).toThrow(CiphertextTamperedError);
    }
  });

  it('should detect a swapped key id header even when that key exists', () => {
    const sameKey = { id: 'b', key: a.key };
    const sut = new Keyring([a, sameKey]);
    const forged = sut.encrypt('x').replace(/^v1:a:/, 'v1:b:');
    expect(() => sut.decrypt(forged)).toThrow(CiphertextTamperedError);
  });

  it('should reject malformed input without decrypting', () => {
    const sut = new Keyring([a]);
    for (const bad of ['', 'plain', 'v2:a:AAAA:AAAA:AAAA', 'v1:a:!!:AAAA:AAAA', 'v1:a:AAAA:AAAA:AAAA']) {
      expect(() => sut.decrypt(bad)).toThrow(MalformedCiphertextError);
    }
  });

  it('should refuse an empty, duplicate or wrongly sized keyring', () => {
    expect(() => new Keyring([])).toThrow(ConfigError);
    expect(() => new Keyring([a, { id: 'a', key: randomBytes(32) }])).toThrow(/twice/);
    expect(() => new Keyring([{ id: 's', key: randomBytes(16) }])).toThrow(/32 bytes/);
  });
});
