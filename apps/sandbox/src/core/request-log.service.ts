export type ServiceName = 'strava' | 'garmin' | 'dropbox';

/** Which of the sandbox's mounts served a request (a service can span several real hosts). */
export type MountName =
  'strava' | 'garmin' | 'garmin-sso' | 'dropbox-www' | 'dropbox-api' | 'dropbox-content' | 'dropbox-notify';

export interface RequestLogEntry {
  seq: number;
  service: ServiceName;
  mount: MountName;
  method: string;
  /** Path below the mount prefix, without the query string (e.g. `/api/v3/athlete/activities`). */
  path: string;
  /** The route pattern that handled it (e.g. `/api/v3/activities/:id`), when one did. */
  route?: string;
  query: string;
  /** 0 when the connection was closed without a response (hang/drop faults, client timeouts). */
  status: number;
  timestamp: string;
  durationMs: number;
  /** Athlete id / Garmin username / Dropbox account id the request acted for, when known. */
  account?: string;
  /** Id of the injected fault that shaped the response, if any. */
  fault?: string;
}

export interface RequestLogFilter {
  service?: string;
  mount?: string;
  method?: string;
  path?: string;
  pathPrefix?: string;
  route?: string;
  account?: string;
  status?: number;
  sinceSeq?: number;
}

/** Every simulator request, in order, so tests and benchmarks can count API calls. */
export class RequestLog {
  private entries: RequestLogEntry[] = [];
  private seq = 0;

  constructor(private readonly capacity = 100_000) {}

  record(entry: Omit<RequestLogEntry, 'seq'>): RequestLogEntry {
    const full = { ...entry, seq: ++this.seq };
    this.entries.push(full);
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
    return full;
  }

  query(filter: RequestLogFilter = {}): RequestLogEntry[] {
    return this.entries.filter(
      (e) =>
        (filter.service === undefined || e.service === filter.service) &&
        (filter.mount === undefined || e.mount === filter.mount) &&
        (filter.method === undefined || e.method === filter.method.toUpperCase()) &&
        (filter.path === undefined || e.path === filter.path) &&
        (filter.pathPrefix === undefined || e.path.startsWith(filter.pathPrefix)) &&
        (filter.route === undefined || e.route === filter.route) &&
        (filter.account === undefined || e.account === filter.account) &&
        (filter.status === undefined || e.status === filter.status) &&
        (filter.sinceSeq === undefined || e.seq > filter.sinceSeq),
    );
  }

  /** Counts grouped by `service METHOD route-or-path`. */
  static counts(entries: RequestLogEntry[]): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const e of entries) {
      const key = `${e.service} ${e.method} ${e.route ?? e.path}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  }

  get lastSeq(): number {
    return this.seq;
  }

  clear(): void {
    this.entries = [];
  }
}
