import { execFileSync } from 'node:child_process';
import { connectRedis, RedisUnreachableError } from '@tributary/common';

// A port nothing listens on: bound and released by the OS moments ago is not guaranteed, 1 (tcpmux) never is open here.
const DEAD_URL = 'redis://:s3cret-pw@127.0.0.1:1';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('connectRedis', () => {
  it('should connect to a reachable Redis and create BullMQ-ready clients', async () => {
    const sut = await connectRedis({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', startPrivate: false });
    try {
      const client = sut.createClient('test');
      expect(client.options.maxRetriesPerRequest).toBeNull();
      expect(await client.ping()).toBe('PONG');
      await expect(sut.ping(500)).resolves.toBeUndefined();
      expect(sut.privateServer).toBeUndefined();
    } finally {
      await sut.close();
    }
  });

  it('should fail fast with a clear message and no password when Redis is unreachable', async () => {
    const started = Date.now();
    const err = await connectRedis({ url: DEAD_URL, startPrivate: false }, { probeTimeoutMs: 1000 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RedisUnreachableError);
    const message = (err as Error).message;
    expect(message).toContain('Redis is not reachable at redis://:[Redacted]@127.0.0.1:1: ECONNREFUSED.');
    expect(message).toContain('Start redis-server or set REDIS_URL');
    expect(message).not.toContain('s3cret-pw');
    expect((err as RedisUnreachableError).code).toBe('unavailable');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('should start a private redis-server when allowed, use it, and stop it on close', async () => {
    const infos: string[] = [];
    const sut = await connectRedis(
      { url: DEAD_URL, startPrivate: true },
      { probeTimeoutMs: 1000, onInfo: (m) => infos.push(m) },
    );
    const server = sut.privateServer;
    expect(server).toBeDefined();
    const { pid, port } = server as { pid: number; port: number };
    expect(sut.url).toBe(`redis://127.0.0.1:${port}`);
    const client = sut.createClient();
    await client.set('k', 'v');
    expect(await client.get('k')).toBe('v');
    // Loopback only and no persistence, as the private server is a throwaway.
    const config = execFileSync('redis-cli', ['-p', String(port), 'CONFIG', 'GET', 'bind'], { encoding: 'utf8' });
    expect(config).toContain('127.0.0.1');
    const save = execFileSync('redis-cli', ['-p', String(port), 'CONFIG', 'GET', 'save'], { encoding: 'utf8' });
    expect(save.split('\n')[1]).toBe('');
    expect(isAlive(pid)).toBe(true);

    await sut.close();
    expect(isAlive(pid)).toBe(false);
    await expect(sut.ping(300)).rejects.toBeInstanceOf(RedisUnreachableError);
    expect(infos).toEqual(['started a private redis-server', 'stopped the private redis-server']);
  });
});
