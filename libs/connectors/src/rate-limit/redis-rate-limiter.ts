import { type Redis } from 'ioredis';
import { UnavailableError, ValidationError } from '@tributary/common';
import { RateLimitedError } from '../errors/connector.error';
import { type AcquireOptions, type RateBucket, type RateLimiter, sleep } from './rate-limiter';

// All three scripts read the clock from Redis (TIME) so workers with skewed clocks still share one timeline.
// Bucket hash fields: tokens (float), ts (ms of last update), blocked (ms until which nobody may take a token).
const CLOCK = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

const REFILL = `
local function load(key, cap, win, now)
  local h = redis.call('HMGET', key, 'tokens', 'ts', 'blocked')
  local tokens = tonumber(h[1]) or cap
  local ts = tonumber(h[2]) or now
  local blocked = tonumber(h[3]) or 0
  if now > ts then tokens = math.min(cap, tokens + (now - ts) * cap / win) end
  return tokens, blocked
end
local function save(key, tokens, blocked, win, now)
  redis.call('HSET', key, 'tokens', tostring(tokens), 'ts', now, 'blocked', blocked)
  redis.call('PEXPIRE', key, math.max(win, blocked - now) + 60000)
end
`;

/** KEYS: buckets; ARGV: cost, then capacity and window per bucket. Returns {waitMs, index of the slowest bucket}. */
const ACQUIRE = `${CLOCK}${REFILL}
local cost = tonumber(ARGV[1])
local wait, slowest = 0, 0
local state = {}
for i = 1, #KEYS do
  local cap, win = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  local tokens, blocked = load(KEYS[i], cap, win, now)
  state[i] = { tokens, blocked, win }
  local w = 0
  if blocked > now then w = blocked - now end
  if tokens < cost then w = math.max(w, math.ceil((cost - tokens) * win / cap)) end
  if w > wait then wait, slowest = w, i end
end
if wait > 0 then return { wait, slowest } end
for i = 1, #KEYS do save(KEYS[i], state[i][1] - cost, state[i][2], state[i][3], now) end
return { 0, 0 }
`;

/** KEYS[1]: bucket; ARGV: capacity, window, remaining (provider's count), resetInMs (0 = unknown). */
const OBSERVE = `${CLOCK}${REFILL}
local cap, win = tonumber(ARGV[1]), tonumber(ARGV[2])
local remaining, resetIn = tonumber(ARGV[3]), tonumber(ARGV[4])
local tokens, blocked = load(KEYS[1], cap, win, now)
if remaining < tokens then tokens = math.max(0, remaining) end
if remaining <= 0 and resetIn > 0 then blocked = math.max(blocked, now + resetIn) end
save(KEYS[1], tokens, blocked, win, now)
return 1
`;

/** KEYS: buckets; ARGV: delayMs, then capacity and window per bucket. */
const BLOCK = `${CLOCK}${REFILL}
local delay = tonumber(ARGV[1])
for i = 1, #KEYS do
  local cap, win = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  local tokens, blocked = load(KEYS[i], cap, win, now)
  save(KEYS[i], tokens, math.max(blocked, now + delay), win, now)
end
return 1
`;

export interface RedisRateLimiterOptions {
  /** Key prefix; tests use a unique one per run. */
  prefix?: string;
  defaultMaxWaitMs?: number;
}

/**
 * Token buckets in Redis shared by all workers. A call waits (paces) while the wait fits in `maxWaitMs`, so bursts
 * are smoothed instead of failing; only a longer wait becomes RateLimitedError for the job queue to retry later.
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly prefix: string;
  private readonly defaultMaxWaitMs: number;

  constructor(
    private readonly redis: Redis,
    options: RedisRateLimiterOptions = {},
  ) {
    this.prefix = options.prefix ?? 'tributary:ratelimit:';
    this.defaultMaxWaitMs = options.defaultMaxWaitMs ?? 30_000;
  }

  async acquire(buckets: readonly RateBucket[], options: AcquireOptions): Promise<void> {
    if (buckets.length === 0) return;
    for (const b of buckets) validate(b);
    const deadline = Date.now() + (options.maxWaitMs ?? this.defaultMaxWaitMs);
    for (;;) {
      const [waitMs, slowest] = await this.run(ACQUIRE, buckets, ['1']);
      if (waitMs <= 0) return;
      const left = deadline - Date.now();
      if (waitMs > left) {
        const scope = buckets[slowest - 1]?.scope ?? 'global';
        throw new RateLimitedError(options.service, waitMs, scope);
      }
      // Another worker may take the token we waited for; looping re-checks atomically.
      await sleep(Math.max(1, waitMs), options.signal);
    }
  }

  async observe(bucket: RateBucket, remaining: number, resetInMs?: number): Promise<void> {
    validate(bucket);
    await this.eval(
      OBSERVE,
      [this.prefix + bucket.key],
      [bucket.capacity, bucket.windowMs, Math.floor(remaining), Math.max(0, Math.ceil(resetInMs ?? 0))],
    );
  }

  async block(buckets: readonly RateBucket[], delayMs: number): Promise<void> {
    if (buckets.length === 0 || delayMs <= 0) return;
    for (const b of buckets) validate(b);
    await this.run(BLOCK, buckets, [String(Math.ceil(delayMs))]);
  }

  private async run(script: string, buckets: readonly RateBucket[], head: string[]): Promise<[number, number]> {
    const args = [...head];
    for (const b of buckets) args.push(String(b.capacity), String(b.windowMs));
    const result = await this.eval(
      script,
      buckets.map((b) => this.prefix + b.key),
      args,
    );
    if (Array.isArray(result)) return [Number(result[0]), Number(result[1])];
    return [0, 0];
  }

  private async eval(script: string, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await this.redis.eval(script, keys.length, ...keys, ...args);
    } catch (err) {
      throw new UnavailableError('redis', 'rate limiter script failed', err);
    }
  }
}

function validate(b: RateBucket): void {
  if (!(b.capacity >= 1) || !(b.windowMs >= 1)) {
    throw new ValidationError(`rate bucket ${b.key} needs capacity ≥ 1 and windowMs ≥ 1`, { key: b.key });
  }
}
