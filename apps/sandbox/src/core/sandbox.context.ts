import type { Socket } from 'node:net';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { sleep, type SandboxClock } from './clock.util';
import type { DeliveryResult } from './outbound.util';
import type { Fault, FaultRegistry } from './fault.service';
import type { MountName, RequestLog, ServiceName } from './request-log.service';

/** What every simulator shares: time, the request log, the fault registry and the record of outbound deliveries. */
export interface SandboxContext {
  clock: SandboxClock;
  log: RequestLog;
  faults: FaultRegistry;
  /** Sockets held open by `hang` faults, destroyed on close so the process can exit. */
  hanging: Set<Socket>;
  /** Webhook deliveries the sandbox made (automatic and control-API fired), newest last. */
  deliveries: (DeliveryResult & { service: ServiceName; kind: string; at: string })[];
  /** Pending background work (webhook deliveries) so tests and close() can wait for it. */
  background: Set<Promise<unknown>>;
}

export function runInBackground(ctx: SandboxContext, work: Promise<unknown>): void {
  const p = work.catch(() => undefined).finally(() => ctx.background.delete(p));
  ctx.background.add(p);
}

export interface GateOptions {
  service: ServiceName;
  mount: MountName;
  /** Best-effort account id for a request before it is handled (for logging and account-scoped faults). */
  accountFor?: (req: Request) => string | undefined;
  /** The service's own 429 answer for `rate-limit` faults. */
  rateLimited: (req: Request, res: Response, fault: Fault) => void;
}

/**
 * Runs in front of a simulator router: records the request in the log once it ends, and applies an injected fault
 * (latency, error status, hang, dropped connection, rate limiting) before the simulator sees the request.
 */
export function serviceGate(ctx: SandboxContext, options: GateOptions): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = Date.now();
    const path = req.path;
    const account = options.accountFor?.(req);
    const fault = ctx.faults.match({
      service: options.service,
      mount: options.mount,
      method: req.method,
      path,
      account,
    });
    let recorded = false;
    const record = (status: number): void => {
      if (recorded) return;
      recorded = true;
      const route = (req.route as { path?: unknown } | undefined)?.path;
      const localAccount: unknown = res.locals.account;
      ctx.log.record({
        service: options.service,
        mount: options.mount,
        method: req.method,
        path,
        route: typeof route === 'string' ? route : undefined,
        query: req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?') + 1) : '',
        status,
        timestamp: new Date(ctx.clock.now()).toISOString(),
        durationMs: Date.now() - started,
        account: typeof localAccount === 'string' ? localAccount : account,
        fault: fault?.id,
      });
    };
    res.on('finish', () => record(res.statusCode));
    res.on('close', () => record(res.writableFinished ? res.statusCode : 0));
    if (fault === undefined) return next();
    switch (fault.kind) {
      case 'latency':
        void sleep(fault.ms ?? 0).then(() => next());
        return;
      case 'status': {
        res.status(fault.status ?? 500);
        for (const [k, v] of Object.entries(fault.headers ?? {})) res.setHeader(k, v);
        if (fault.body === undefined) res.type('text/plain').send(`sandbox fault ${fault.id}`);
        else if (typeof fault.body === 'string') res.type('text/plain').send(fault.body);
        else res.json(fault.body);
        return;
      }
      case 'hang': {
        const socket = req.socket;
        ctx.hanging.add(socket);
        socket.once('close', () => ctx.hanging.delete(socket));
        if (fault.ms !== undefined) setTimeout(() => socket.destroy(), fault.ms).unref();
        return;
      }
      case 'drop':
        req.socket.destroy();
        return;
      case 'rate-limit':
        options.rateLimited(req, res, fault);
        return;
    }
  };
}
