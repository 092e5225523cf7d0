import { RateLimitedError, UpstreamUnavailableError } from '../errors/connector.error';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpRequest {
  method: HttpMethod;
  url: string;
  /** Short stable name of the call (`list`, `upload`, …): used in metrics and error messages instead of the URL. */
  operation: string;
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  /** JSON body; sets Content-Type. */
  json?: unknown;
  body?: string | Uint8Array | FormData | URLSearchParams;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  bytes: Uint8Array;
  text(): string;
  /** Parsed JSON body, or undefined when the body is empty or not JSON. */
  json(): unknown;
}

export type RequestOutcome = 'ok' | 'http_error' | 'timeout' | 'network';

export interface RequestEvent {
  service: string;
  operation: string;
  method: HttpMethod;
  status?: number;
  outcome: RequestOutcome;
  durationMs: number;
}

/** Metrics hook: called once per HTTP request, after it finished or failed. Must not throw. */
export type RequestObserver = (event: RequestEvent) => void;

export interface HttpClientOptions {
  timeoutMs?: number;
  observer?: RequestObserver;
  fetchImpl?: typeof fetch;
  userAgent?: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;

function buildUrl(url: string, query: HttpRequest['query']): string {
  if (query === undefined) return url;
  const u = new URL(url);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) u.searchParams.set(k, String(v));
  return u.toString();
}

function makeResponse(status: number, headers: Headers, bytes: Uint8Array): HttpResponse {
  let text: string | undefined;
  const getText = (): string => (text ??= new TextDecoder().decode(bytes));
  return {
    status,
    headers,
    bytes,
    text: getText,
    json: () => {
      const t = getText();
      if (t.trim() === '') return undefined;
      try {
        return JSON.parse(t) as unknown;
      } catch {
        return undefined;
      }
    },
  };
}

/**
 * A thin fetch wrapper shared by every connector. It never throws for an HTTP status (each service maps its own
 * error bodies); it throws UpstreamUnavailableError for timeouts and network failures. It never logs, and error
 * messages name the operation, never the URL, so tokens in headers or query strings cannot leak.
 */
export class HttpClient {
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(
    readonly service: string,
    private readonly options: HttpClientOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.fetchImpl = options.fetchImpl ?? fetch;
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    const headers: Record<string, string> = { ...req.headers };
    if (this.options.userAgent !== undefined && headers['User-Agent'] === undefined) {
      headers['User-Agent'] = this.options.userAgent;
    }
    let body: RequestInit['body'];
    if (req.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(req.json);
    } else if (req.body instanceof Uint8Array) {
      body = new Blob([req.body]);
    } else {
      body = req.body;
    }
    const timeout = AbortSignal.timeout(req.timeoutMs ?? this.timeoutMs);
    const signal = req.signal === undefined ? timeout : AbortSignal.any([timeout, req.signal]);
    const started = Date.now();
    const emit = (outcome: RequestOutcome, status?: number): void => {
      try {
        this.options.observer?.({
          service: this.service,
          operation: req.operation,
          method: req.method,
          status,
          outcome,
          durationMs: Date.now() - started,
        });
      } catch {
        // Metrics must never break a sync.
      }
    };
    try {
      const res = await this.fetchImpl(buildUrl(req.url, req.query), {
        method: req.method,
        headers,
        body,
        signal,
        redirect: 'manual',
      });
      const bytes = new Uint8Array(await res.arrayBuffer());
      emit(res.status >= 400 ? 'http_error' : 'ok', res.status);
      return makeResponse(res.status, res.headers, bytes);
    } catch (err) {
      if (timeout.aborted) {
        emit('timeout');
        throw new UpstreamUnavailableError(this.service, `${req.operation} timed out`, undefined, err);
      }
      emit('network');
      if (req.signal?.aborted) {
        throw new UpstreamUnavailableError(this.service, `${req.operation} was cancelled`, undefined, err);
      }
      const code = (err as { cause?: { code?: string } }).cause?.code;
      throw new UpstreamUnavailableError(
        this.service,
        `${req.operation} failed: network error${code === undefined ? '' : ` (${code})`}`,
        undefined,
        err,
      );
    }
  }
}

/** Retry-After as milliseconds: either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Status codes every service treats the same: 429 → RateLimitedError, 408/5xx → UpstreamUnavailableError. */
export function throwForTransientStatus(
  service: string,
  operation: string,
  res: HttpResponse,
  fallbackRetryMs = 60_000,
): void {
  if (res.status === 429) {
    throw new RateLimitedError(service, parseRetryAfter(res.headers.get('retry-after')) ?? fallbackRetryMs);
  }
  if (res.status === 408 || res.status >= 500) {
    throw new UpstreamUnavailableError(service, `${operation} answered HTTP ${res.status}`, res.status);
  }
}

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
