import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A throwaway HTTP server standing in for the hub's webhook endpoint in simulator tests. */
export interface CallbackServer {
  url: string;
  received: ReceivedRequest[];
  /** Resolves with the next request matching `predicate` (already-received ones count). */
  waitFor(predicate: (r: ReceivedRequest) => boolean, timeoutMs?: number): Promise<ReceivedRequest>;
  close(): Promise<void>;
}

export async function startCallbackServer(
  handler: (req: ReceivedRequest, res: ServerResponse) => void = (_req, res) => {
    res.writeHead(200).end();
  },
): Promise<CallbackServer> {
  const received: ReceivedRequest[] = [];
  const listeners = new Set<() => void>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const entry: ReceivedRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(entry);
      handler(entry, res);
      for (const l of [...listeners]) l();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    waitFor: (predicate, timeoutMs = 5000) =>
      new Promise<ReceivedRequest>((resolve, reject) => {
        const check = (): boolean => {
          const hit = received.find(predicate);
          if (hit !== undefined) {
            listeners.delete(listener);
            clearTimeout(timer);
            resolve(hit);
            return true;
          }
          return false;
        };
        const listener = (): void => void check();
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(new RangeError(`no matching callback request within ${timeoutMs} ms`));
        }, timeoutMs);
        listeners.add(listener);
        check();
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export async function json<T = Record<string, unknown>>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

export function control(base: string) {
  const call = async (method: string, path: string, body?: unknown): Promise<Response> =>
    fetch(`${base}/_control${path}`, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  return {
    call,
    post: async <T = Record<string, unknown>>(path: string, body?: unknown): Promise<T> => {
      const res = await call('POST', path, body ?? {});
      if (res.status >= 300) throw new RangeError(`control POST ${path} -> ${res.status}: ${await res.text()}`);
      return json<T>(res);
    },
    get: async <T = Record<string, unknown>>(path: string): Promise<T> => json<T>(await call('GET', path)),
  };
}
