import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { pinoHttp, type HttpLogger } from 'pino-http';
import { REQUEST_ID_HEADER, requestContext, resolveRequestId, serializeRequest, type Logger } from '@tributary/common';
import { ROOT_LOGGER } from '../web.tokens';

/**
 * Gives every request an id (the caller's X-Request-Id when it is a safe token), echoes it in the response, makes it
 * the `reqId` of every log line written while the request is handled, and logs one line per completed request.
 */
@Injectable()
export class RequestLoggingMiddleware implements NestMiddleware {
  private readonly httpLogger: HttpLogger;

  constructor(@Inject(ROOT_LOGGER) logger: Logger) {
    this.httpLogger = pinoHttp({
      logger,
      genReqId: (req) => req.id as string,
      serializers: { req: serializeRequest },
      customLogLevel: (_req, res, err) =>
        err !== undefined || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
      // Health probes arrive every few seconds; logging them would drown everything else.
      autoLogging: { ignore: (req) => req.url?.startsWith('/health/') === true && (req as Request).method === 'GET' },
    });
  }

  use(req: Request, res: Response, next: NextFunction): void {
    const requestId = resolveRequestId(req.headers[REQUEST_ID_HEADER]);
    (req as Request & { id: string }).id = requestId;
    res.setHeader('X-Request-Id', requestId);
    requestContext.run({ requestId }, () => this.httpLogger(req, res, next));
  }
}
