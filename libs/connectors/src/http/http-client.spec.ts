import { RateLimitedError, UpstreamUnavailableError } from '../errors/connector.error';
import { FakeHttpServer } from '../testing/fake-http.server';
import { HttpClient, type RequestEvent, parseRetryAfter, throwForTransientStatus } from './http-client';

describe(HttpClient.name, () => {
  let server: FakeHttpServer;
  let events: RequestEvent[];
  let sut: HttpClient;

  beforeEach(async () => {
    server = await new FakeHttpServer().start();
    events = [];
    sut = new HttpClient('svc', { timeoutMs: 1500, observer: (e) => events.push(e), userAgent: 'tributary-test' });
  });
  afterEach(() => server.stop());

  it('should send JSON and query parameters and return any status without throwing', async () => {
    server.on('POST', '/x', (req) => {
      expect(req.query.get('a')).toBe('1');
      expect(req.query.has('b')).toBe(false);
      expect(req.headers['content-type']).toBe('application/json');
      expect(req.headers['user-agent']).toBe('tributary-test');
      return { status: 404, json: { echo: JSON.parse(req.text) as unknown } };
    });
    const res = await sut.request({
      method: 'POST',
      url: `${server.url}/x`,
      operation: 'echo',
      query: { a: 1, b: undefined },
      json: { hello: 'world' },
    });
    expect(res.status).toBe(404);
    expect(res.json()).toEqual({ echo: { hello: 'world' } });
    expect(events).toEqual([
      {
        service: 'svc',
        operation: 'echo',
        method: 'POST',
        status: 404,
        outcome: 'http_error',
        durationMs: expect.any(Number) as unknown,
      },
    ]);
  });

  it('should report timeouts and network failures as UpstreamUnavailableError without the URL', async () => {
    server.on('GET', '/slow', { delayMs: 3000, body: 'late' });
    server.on('GET', '/drop', { drop: true });
    const timeout = await sut
      .request({ method: 'GET', url: `${server.url}/slow?access_token=secret`, operation: 'slow', timeoutMs: 100 })
      .catch((e: unknown) => e);
    expect(timeout).toBeInstanceOf(UpstreamUnavailableError);
    expect((timeout as Error).message).toBe('svc: slow timed out');
    const dropped = await sut
      .request({ method: 'GET', url: `${server.url}/drop?access_token=secret`, operation: 'drop' })
      .catch((e: unknown) => e);
    expect(dropped).toBeInstanceOf(UpstreamUnavailableError);
    expect((dropped as Error).message).not.toContain('secret');
    expect(events.map((e) => e.outcome)).toEqual(['timeout', 'network']);
  });

  it('should keep metrics failures away from the request', async () => {
    server.on('GET', '/ok', { body: 'fine' });
    const noisy = new HttpClient('svc', {
      observer: () => {
        throw new TypeError('metrics down');
      },
    });
    await expect(noisy.request({ method: 'GET', url: `${server.url}/ok`, operation: 'ok' })).resolves.toMatchObject({
      status: 200,
    });
  });
});

describe('parseRetryAfter', () => {
  it('should read delta seconds and HTTP dates', () => {
    expect(parseRetryAfter('120')).toBe(120_000);
    expect(parseRetryAfter('1.5')).toBe(1500);
    const now = Date.UTC(2024, 0, 1, 0, 0, 0);
    expect(parseRetryAfter('Mon, 01 Jan 2024 00:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});

describe('throwForTransientStatus', () => {
  const res = (status: number, headers: Record<string, string> = {}) => ({
    status,
    headers: new Headers(headers),
    bytes: new Uint8Array(),
    text: () => '',
    json: () => undefined,
  });

  it('should map 429, 408 and 5xx and leave everything else to the caller', () => {
    let caught: unknown;
    try {
      throwForTransientStatus('svc', 'op', res(429, { 'Retry-After': '7' }));
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ retryAfterMs: 7000 });
    expect(() => throwForTransientStatus('svc', 'op', res(429))).toThrow(RateLimitedError);
    expect(() => throwForTransientStatus('svc', 'op', res(408))).toThrow(UpstreamUnavailableError);
    expect(() => throwForTransientStatus('svc', 'op', res(502))).toThrow(UpstreamUnavailableError);
    expect(() => throwForTransientStatus('svc', 'op', res(404))).not.toThrow();
  });
});
