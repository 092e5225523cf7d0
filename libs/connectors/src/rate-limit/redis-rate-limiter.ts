import { type Redis } from 'ioredis';
import { type RateBudgetEvent, UnavailableError, ValidationError } from '@tributary/common';
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

/**
 * KEYS: buckets; ARGV: cost, then capacity and window per bucket. Returns {waitMs, index of the slowest bucket,
 * whole tokens left in each bucket} (left after taking, or as they are when the caller must wait).
 */
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
local result = { wait, slowest }
for i = 1, #KEYS do
  local left = state[i][1]
  if wait == 0 then
    left = left - cost
    save(KEYS[i], left, state[i][2], state[i][3], now)
  end
  result[i + 2] = math.floor(math.max(0, left))
end
return result
`;

/**
 * KEYS[1]: bucket; ARGV: capacity, window, remaining (provider's count), resetInMs (0 = unknown). Returns the whole
 * tokens left.
 */
const OBSERVE = `${CLOCK}${REFILL}
local cap, win = tonumber(ARGV[1]), tonumber(ARGV[2])
local remaining, resetIn = tonumber(ARGV[3]), tonumber(ARGV[4])
local tokens, blocked = load(KEYS[1], cap, win, now)
if remaining < tokens then tokens = math.max(0, remaining) end
if remaining <= 0 and resetIn > 0 then blocked = math.max(blocked, now + resetIn) end
save(KEYS[1], tokens, blocked, win, now)
return math.floor(tokens)
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
  /**
   * Metrics hook: the budget left in each app-wide (`global`) bucket after a call touched it. Per-user buckets are
   * not reported (one series per user). Must not throw.
   */
  onBudget?: (event: RateBudgetEvent) => void;
}

/**
 * Token buckets in Redis shared by all workers. A call waits (paces) while the wait fits in `maxWaitMs`, so bursts
 * are smoothed instead of failing; only a longer wait becomes RateLimitedError for the job queue to retry later.
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly prefix: string;
  private readonly defaultMaxWaitMs: number;
  private readonly onBudget?: (event: RateBudgetEvent) => void;
  /** Which service each bucket paces, as seen in `acquire`; `observe` does not name one. */
  private readonly bucketServices = new Map<string, string>();

  constructor(
    private readonly redis: Redis,
    options: RedisRateLimiterOptions = {},
  ) {
    this.prefix = options.prefix ?? 'tributary:ratelimit:';
    this.defaultMaxWaitMs = options.defaultMaxWaitMs ?? 30_000;
    this.onBudget = options.onBudget;
  }

  async acquire(buckets: readonly RateBucket[], options: AcquireOptions): Promise<void> {
    if (buckets.length === 0) return;
    for (const b of buckets) validate(b);
    const deadline = Date.now() + (options.maxWaitMs ?? this.defaultMaxWaitMs);
    // Global buckets only: per-user keys are unbounded and never reported.
    for (const b of buckets) if (b.scope === 'global') this.bucketServices.set(b.key, options.service);
    for (;;) {
      const [waitMs, slowest, tokens] = await this.run(ACQUIRE, buckets, ['1']);
      buckets.forEach((b, i) => this.report(b, tokens[i]));
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
    const left = await this.eval(
      OBSERVE,
      [this.prefix + bucket.key],
      [bucket.capacity, bucket.windowMs, Math.floor(remaining), Math.max(0, Math.ceil(resetInMs ?? 0))],
    );
    this.report(bucket, typeof left === 'number' ? left : undefined);
  }

  private report(bucket: RateBucket, remaining: number | undefined): void {
    if (this.onBudget === undefined || remaining === undefined || bucket.scope !== 'global') return;
    const service = this.bucketServices.get(bucket.key) ?? bucket.key.split(':')[0] ?? bucket.key;
    try {
      this.onBudget({ service, bucket: bucket.key, remaining, capacity: bucket.capacity });
    } catch {
      // Metrics must never break a request.
    }
  }

  async block(buckets: readonly RateBucket[], delayMs: number): Promise<void> {
    if (buckets.length === 0 || delayMs <= 0) return;
    for (const b of buckets) validate(b);
    await this.run(BLOCK, buckets, [String(Math.ceil(delayMs))]);
  }

  private async run(
    script: string,
    buckets: readonly RateBucket[],
    head: string[],
  ): Promise<[number, number, (number | undefined)[]]> {
    const args = [...head];
    for (const b of buckets) args.push(String(b.capacity), String(b.windowMs));
    const result = await this.eval(
      script,
      buckets.map((b) => this.prefix + b.key),
      args,
    );
    if (Array.isArray(result)) {
      const left = buckets.map((_, i) => (result[i + 2] === undefined ? undefined : Number(result[i + 2])));
      return [Number(result[0]), Number(result[1]), left];
    }
    return [0, 0, []];
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
