import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { REDACT_PATHS, REDACTED, scrubLogLine, scrubText } from './redaction.util';
import { currentRequestId } from './request-context.util';

export type { Logger } from 'pino';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface CreateLoggerOptions {
  level?: LogLevel;
  /** Process role, e.g. `web` or `worker`; added to every line as `app`. */
  app?: string;
  /** Where JSON lines go; stdout when omitted. Tests pass a capturing stream. */
  destination?: DestinationStream;
}

interface RawRequest {
  id?: unknown;
  method?: string;
  url?: string;
  originalUrl?: string;
  headers?: Record<string, unknown>;
  socket?: { remoteAddress?: string };
  remoteAddress?: string;
}

const HIDDEN_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-api-key']);

/** Request serializer that never emits credentials: auth/cookie headers are masked, query secrets scrubbed. */
export function serializeRequest(req: RawRequest): Record<string, unknown> {
  const headers: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(req.headers ?? {})) {
    headers[name] = HIDDEN_HEADERS.has(name.toLowerCase()) ? REDACTED : value;
  }
  return {
    id: req.id,
    method: req.method,
    url: scrubText(req.originalUrl ?? req.url ?? ''),
    headers,
    remoteAddress: req.remoteAddress ?? req.socket?.remoteAddress,
  };
}

/**
 * The one way to build a logger: JSON lines, the current request id on every line logged inside a request, and
 * secrets removed twice (pino path redaction, then a scrub of the final line that reaches any depth).
 */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const pinoOptions: LoggerOptions = {
    level: options.level ?? 'info',
    base: options.app === undefined ? { pid: process.pid } : { app: options.app, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    serializers: { err: pino.stdSerializers.errWithCause, error: pino.stdSerializers.errWithCause },
    mixin: () => {
      const reqId = currentRequestId();
      return reqId === undefined ? {} : { reqId };
    },
    hooks: { streamWrite: scrubLogLine },
  };
  return options.destination === undefined ? pino(pinoOptions) : pino(pinoOptions, options.destination);
}
