import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@tributary/common';
import { loadConfig } from './config';

const key = Buffer.alloc(32, 7).toString('base64');

describe('loadConfig', () => {
  it('should apply defaults and ignore unrelated variables', () => {
    const sut = loadConfig({ PATH: '/bin', HOME: '/root' });
    expect(sut.database.url).toBeUndefined();
    expect(sut.redis.url).toBe('redis://127.0.0.1:6379');
    expect(sut.worker.roles).toEqual(['sync', 'watchdog', 'stats', 'scheduler']);
    expect(sut.encryptionKeys).toEqual([]);
  });

  it('should name an unknown key in our namespace', () => {
    expect(() => loadConfig({ STRAVA_CLIENT_SECERT: 'x' })).toThrow(/STRAVA_CLIENT_SECERT/);
  });

  it('should name an invalid key', () => {
    expect(() => loadConfig({ WEB_PORT: 'eighty' })).toThrow(/WEB_PORT/);
    expect(() => loadConfig({ DATABASE_URL: 'not a url' })).toThrow(ConfigError);
    expect(() => loadConfig({ WORKER_ROLES: 'sync,cook' })).toThrow(/WORKER_ROLES: unknown role\(s\) cook/);
  });

  it('should read a secret from NAME_FILE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'keys');
    writeFileSync(file, `k1:${key}\n`);
    const sut = loadConfig({ TRIBUTARY_ENCRYPTION_KEYS_FILE: file });
    expect(sut.encryptionKeys).toHaveLength(1);
    expect(sut.encryptionKeys[0]?.id).toBe('k1');
  });

  it('should treat an empty secret file as unset', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    writeFileSync(join(dir, 'empty'), '\n');
    expect(
      loadConfig({ DROPBOX_CLIENT_SECRET_FILE: join(dir, 'empty') }).services.dropbox.clientSecret,
    ).toBeUndefined();
  });

  it('should refuse a missing secret file and a doubly given secret', () => {
    expect(() => loadConfig({ SESSION_SECRET_FILE: '/nonexistent/secret' })).toThrow(/SESSION_SECRET_FILE/);
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    writeFileSync(join(dir, 's'), 'x'.repeat(40));
    expect(() => loadConfig({ SESSION_SECRET: 'y'.repeat(40), SESSION_SECRET_FILE: join(dir, 's') })).toThrow(
      /Both SESSION_SECRET and SESSION_SECRET_FILE/,
    );
  });

  it('should reject a malformed encryption key', () => {
    expect(() => loadConfig({ TRIBUTARY_ENCRYPTION_KEYS: 'k1:c2hvcnQ=' })).toThrow(/32 bytes/);
    expect(() => loadConfig({ TRIBUTARY_ENCRYPTION_KEYS: `k1:${key},k1:${key}` })).toThrow(/unique/);
  });
});
