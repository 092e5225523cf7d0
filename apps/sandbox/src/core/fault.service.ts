import { SandboxInputError } from './sandbox.error';
import type { MountName, ServiceName } from './request-log.service';

/**
 * latency: delay, then answer normally. status: answer with `status` and `body`. hang: never answer (the socket is
 * left open until the client gives up or the sandbox closes). drop: destroy the connection. rate-limit: the
 * service's own 429 (Strava headers + Fault body, Dropbox too_many_requests + Retry-After, Garmin plain 429).
 */
export type FaultKind = 'latency' | 'status' | 'hang' | 'drop' | 'rate-limit';

export interface FaultSpec {
  service: ServiceName | '*';
  mount?: MountName;
  method?: string;
  /** Matches the path below the mount: a plain string is a substring match, `/…/` is a regular expression. */
  path?: string;
  /** Only requests acting for this account (athlete id, Garmin username, Dropbox account id). */
  account?: string;
  kind: FaultKind;
  ms?: number;
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** For rate-limit on Dropbox: the retry_after seconds. */
  retryAfter?: number;
  /** How many matching requests it affects; unlimited when absent. */
  times?: number;
  /** Skip this many matching requests before the fault starts applying. */
  after?: number;
}

export interface Fault extends FaultSpec {
  id: string;
  hits: number;
  seen: number;
}

const KINDS: readonly FaultKind[] = ['latency', 'status', 'hang', 'drop', 'rate-limit'];
const SERVICES: readonly string[] = ['strava', 'garmin', 'dropbox', '*'];

export class FaultRegistry {
  private faults: Fault[] = [];
  private nextId = 1;

  add(input: unknown): Fault {
    const spec = parseFaultSpec(input);
    const fault: Fault = { ...spec, id: `fault-${this.nextId++}`, hits: 0, seen: 0 };
    this.faults.push(fault);
    return fault;
  }

  list(): Fault[] {
    return [...this.faults];
  }

  remove(id: string): boolean {
    const before = this.faults.length;
    this.faults = this.faults.filter((f) => f.id !== id);
    return this.faults.length !== before;
  }

  clear(): void {
    this.faults = [];
  }

  /** The first fault that applies to this request; consumes one of its `times`. */
  match(req: {
    service: ServiceName;
    mount: MountName;
    method: string;
    path: string;
    account?: string;
  }): Fault | undefined {
    for (const fault of this.faults) {
      if (fault.service !== '*' && fault.service !== req.service) continue;
      if (fault.mount !== undefined && fault.mount !== req.mount) continue;
      if (fault.method !== undefined && fault.method.toUpperCase() !== req.method) continue;
      if (fault.path !== undefined && !pathMatches(fault.path, req.path)) continue;
      if (fault.account !== undefined && fault.account !== req.account) continue;
      fault.seen++;
      if (fault.after !== undefined && fault.seen <= fault.after) continue;
      if (fault.times !== undefined && fault.hits >= fault.times) continue;
      fault.hits++;
      return fault;
    }
    return undefined;
  }
}

function pathMatches(pattern: string, path: string): boolean {
  if (pattern.length > 2 && pattern.startsWith('/') && pattern.endsWith('/')) {
    return new RegExp(pattern.slice(1, -1)).test(path);
  }
  return path.includes(pattern);
}

function parseFaultSpec(input: unknown): FaultSpec {
  if (typeof input !== 'object' || input === null) throw new SandboxInputError('fault: body must be a JSON object');
  const o = input as Record<string, unknown>;
  const service = o.service ?? '*';
  if (typeof service !== 'string' || !SERVICES.includes(service)) {
    throw new SandboxInputError(`fault.service must be one of ${SERVICES.join(', ')}`);
  }
  if (typeof o.kind !== 'string' || !(KINDS as readonly string[]).includes(o.kind)) {
    throw new SandboxInputError(`fault.kind must be one of ${KINDS.join(', ')}`);
  }
  const kind = o.kind as FaultKind;
  const optionalNumber = (key: string): number | undefined => {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new SandboxInputError(`fault.${key} must be a non-negative number`);
    }
    return v;
  };
  const optionalString = (key: string): string | undefined => {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw new SandboxInputError(`fault.${key} must be a string`);
    return v;
  };
  const status = optionalNumber('status');
  if (kind === 'status' && (status === undefined || status < 100 || status > 599)) {
    throw new SandboxInputError('fault.status (100-599) is required for kind "status"');
  }
  if (kind === 'latency' && optionalNumber('ms') === undefined) {
    throw new SandboxInputError('fault.ms is required for kind "latency"');
  }
  const headers = o.headers;
  if (headers !== undefined && (typeof headers !== 'object' || headers === null)) {
    throw new SandboxInputError('fault.headers must be an object of strings');
  }
  return {
    service: service as ServiceName | '*',
    mount: optionalString('mount') as MountName | undefined,
    method: optionalString('method'),
    path: optionalString('path'),
    account: optionalString('account'),
    kind,
    ms: optionalNumber('ms'),
    status,
    body: o.body,
    headers: headers as Record<string, string> | undefined,
    retryAfter: optionalNumber('retryAfter'),
    times: optionalNumber('times'),
    after: optionalNumber('after'),
  };
}
