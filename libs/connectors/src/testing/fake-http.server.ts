import { type IncomingMessage, type Server, createServer } from 'node:http';
import { type AddressInfo } from 'node:net';

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Buffer;
  text: string;
}

export interface FakeReply {
  status?: number;
  headers?: Record<string, string>;
  json?: unknown;
  body?: string | Uint8Array;
  /** Wait before answering (timeouts). */
  delayMs?: number;
  /** Destroy the socket instead of answering (network errors). */
  drop?: boolean;
}

export type FakeHandler = (req: FakeRequest) => FakeReply | Promise<FakeReply>;

/**
 * A tiny HTTP server on port 0 for connector unit tests: routes are `METHOD /path` (exact path) and every request
 * is recorded so tests can assert what was sent. Unrouted requests get 599 so a missing route cannot look valid.
 */
export class FakeHttpServer {
  readonly requests: FakeRequest[] = [];
  /** Exceptions thrown by handlers (failed assertions); tests may check it is empty. */
  readonly errors: unknown[] = [];
  private readonly routes = new Map<string, FakeHandler>();
  private server?: Server;
  url = '';

  on(method: string, path: string, handler: FakeHandler | FakeReply): this {
    this.routes.set(`${method.toUpperCase()} ${path}`, typeof handler === 'function' ? handler : () => handler);
    return this;
  }

  /** Replies in order, the last one repeating. */
  sequence(method: string, path: string, replies: FakeReply[]): this {
    let i = 0;
    return this.on(method, path, () => replies[Math.min(i++, replies.length - 1)]!);
  }

  calls(method: string, path: string): FakeRequest[] {
    return this.requests.filter((r) => r.method === method.toUpperCase() && r.path === path);
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const u = new URL(req.url ?? '/', 'http://fake');
        const body = Buffer.concat(chunks);
        const fr: FakeRequest = {
          method: req.method ?? 'GET',
          path: u.pathname,
          query: u.searchParams,
          headers: req.headers,
          body,
          text: body.toString('utf8'),
        };
        this.requests.push(fr);
        const handler = this.routes.get(`${fr.method} ${fr.path}`);
        const reply = Promise.resolve()
          .then(() => (handler === undefined ? { status: 599, body: 'no route' } : handler(fr)))
          .catch((err: unknown): FakeReply => {
            // An assertion failing inside a handler must fail the test, not hang the request.
            this.errors.push(err);
            return { status: 598, body: String(err) };
          });
        void reply.then(async (reply) => {
          if (reply.delayMs !== undefined) await new Promise((r) => setTimeout(r, reply.delayMs));
          if (reply.drop === true) {
            req.socket.destroy();
            return;
          }
          const headers: Record<string, string> = { ...reply.headers };
          let payload: string | Uint8Array = reply.body ?? '';
          if (reply.json !== undefined) {
            headers['content-type'] ??= 'application/json';
            payload = JSON.stringify(reply.json);
          }
          if (!res.destroyed) {
            res.writeHead(reply.status ?? 200, headers);
            res.end(payload);
          }
        });
      });
    });
    const server = this.server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
