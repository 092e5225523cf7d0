import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { type Registry } from 'prom-client';
import { describeError, metricsScrapeAllowed, type Logger } from '@tributary/common';
import { checkReadiness, type ReadinessCheck } from './worker-readiness.util';

export interface WorkerHttpOptions {
  port: number;
  host: string;
  registry: Registry;
  /** Postgres and Redis; a failing one makes /health/ready answer 503 naming it. */
  checks: Readonly<Record<string, ReadinessCheck>>;
  logger: Logger;
  /** When set, /metrics needs `Authorization: Bearer <token>`. */
  metricsToken?: string;
}

export interface WorkerHttpServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

/**
 * The worker's own small HTTP surface: probes for the kubelet and compose, and the Prometheus endpoint. Plain
 * node:http, not Nest: the worker is an application context and needs three fixed GET routes, nothing else.
 */
export async function startWorkerHttpServer(options: WorkerHttpOptions): Promise<WorkerHttpServer> {
  const { logger } = options;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: 'method_not_allowed' }, { allow: 'GET, HEAD' });
      return;
    }
    switch (path) {
      case '/health/live':
        // Never checks dependencies: a Postgres outage must not make the kubelet restart every worker.
        sendJson(res, 200, { status: 'ok' });
        return;
      case '/health/ready': {
        const report = await checkReadiness(options.checks, logger);
        sendJson(res, report.status === 'ok' ? 200 : 503, report);
        return;
      }
      case '/metrics': {
        if (!metricsScrapeAllowed(req.headers.authorization, options.metricsToken)) {
          sendJson(res, 401, { error: 'unauthorized' }, { 'www-authenticate': 'Bearer realm="metrics"' });
          return;
        }
        const body = await options.registry.metrics();
        res.writeHead(200, { 'content-type': options.registry.contentType, 'cache-control': 'no-store' });
        res.end(body);
        return;
      }
      default:
        sendJson(res, 404, { error: 'not_found' });
    }
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger.error({ err, path: req.url }, `worker http request failed: ${describeError(err)}`);
      if (!res.headersSent) sendJson(res, 500, { error: 'internal' });
      else res.destroy();
    });
  });
  // Probes must not keep a draining worker alive, nor wait on idle keep-alive sockets at close.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
