import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ConfigError, PermanentError } from '../errors/domain.error';

/** One AES-256 key and the short id written into every ciphertext it produces (same shape as config's EncryptionKey). */
export interface KeyringKey {
  id: string;
  key: Buffer;
}

/** The ciphertext names a key id this keyring does not hold (a key was removed before its data was rotated). */
export class UnknownEncryptionKeyError extends PermanentError {
  constructor(keyId: string) {
    super('crypto_unknown_key', `No encryption key with id ${keyId} is configured`, { details: { keyId } });
  }
}

/** The ciphertext is not in our format at all. */
export class MalformedCiphertextError extends PermanentError {
  constructor(reason: string) {
    super('crypto_malformed', `Malformed ciphertext: ${reason}`);
  }
}

/** Authentication failed: the ciphertext, its header or tag was altered, or it was made with another key. */
export class CiphertextTamperedError extends PermanentError {
  constructor(keyId: string, cause?: unknown) {
    super('crypto_tampered', `Ciphertext under key ${keyId} failed authentication`, { cause, details: { keyId } });
  }
}

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * AES-256-GCM with a keyring: the first key encrypts, every key decrypts, so keys rotate without downtime (add a new
 * key first, run `tributary keys rotate`, then drop the old one). Format: `v1:<keyId>:<iv>:<tag>:<ciphertext>`
 * (base64). The `v1:<keyId>` header is bound as additional authenticated data, so swapping the key id is detected.
 */
export class Keyring {
  private readonly keys: ReadonlyMap<string, Buffer>;
  readonly currentKeyId: string;

  constructor(keys: readonly KeyringKey[]) {
    const first = keys[0];
    if (first === undefined) {
      throw new ConfigError('No encryption keys configured (TRIBUTARY_ENCRYPTION_KEYS); cannot store credentials', {
        key: 'TRIBUTARY_ENCRYPTION_KEYS',
      });
    }
    const map = new Map<string, Buffer>();
    for (const { id, key } of keys) {
      if (!KEY_ID.test(id)) throw new ConfigError(`Encryption key id ${JSON.stringify(id)} is not a short token`);
      if (key.length !== 32) throw new ConfigError(`Encryption key ${id} must be 32 bytes, got ${key.length}`);
      if (map.has(id)) throw new ConfigError(`Encryption key id ${id} is listed twice`);
      map.set(id, Buffer.from(key));
    }
    this.keys = map;
    this.currentKeyId = first.id;
  }

  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  encrypt(plaintext: string): string {
    const key = this.keys.get(this.currentKeyId) as Buffer;
    const header = `${VERSION}:${this.currentKeyId}`;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(header, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [header, iv.toString('base64'), tag.toString('base64'), body.toString('base64')].join(':');
  }

  decrypt(ciphertext: string): string {
    const { keyId, iv, tag, body } = parse(ciphertext);
    const key = this.keys.get(keyId);
    if (key === undefined) throw new UnknownEncryptionKeyError(keyId);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(`${VERSION}:${keyId}`, 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch (err) {
      throw new CiphertextTamperedError(keyId, err);
    }
  }

  encryptJson(value: unknown): string {
    return this.encrypt(JSON.stringify(value));
  }

  /** Returns the parsed document; its shape is the caller's to validate. */
  decryptJson(ciphertext: string): unknown {
    const text = this.decrypt(ciphertext);
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new MalformedCiphertextError(`decrypted payload is not JSON (${(err as Error).message})`);
    }
  }

  /** True when the ciphertext is under a key other than the current one. */
  needsReencryption(ciphertext: string): boolean {
    return keyIdOf(ciphertext) !== this.currentKeyId;
  }

  /** Decrypts under whichever key made it and encrypts under the current key. */
  reencrypt(ciphertext: string): string {
    return this.encrypt(this.decrypt(ciphertext));
  }
}

/** The key id a ciphertext was made with, without decrypting it. */
export function keyIdOf(ciphertext: string): string {
  return parse(ciphertext).keyId;
}

function parse(ciphertext: string): { keyId: string; iv: Buffer; tag: Buffer; body: Buffer } {
  const parts = ciphertext.split(':');
  if (parts.length !== 5) throw new MalformedCiphertextError(`expected 5 fields, got ${parts.length}`);
  const [version, keyId, iv64, tag64, body64] = parts as [string, string, string, string, string];
  if (version !== VERSION) throw new MalformedCiphertextError(`unknown version ${JSON.stringify(version.slice(0, 8))}`);
  if (!KEY_ID.test(keyId)) throw new MalformedCiphertextError('bad key id');
  const b64 = /^[A-Za-z0-9+/]*={0,2}$/;
  if (![iv64, tag64, body64].every((p) => b64.test(p))) throw new MalformedCiphertextError('fields are not base64');
  const iv = Buffer.from(iv64, 'base64');
  const tag = Buffer.from(tag64, 'base64');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new MalformedCiphertextError('bad iv or tag length');
  return { keyId, iv, tag, body: Buffer.from(body64, 'base64') };
}
