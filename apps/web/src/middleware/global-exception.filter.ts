import { randomUUID } from 'node:crypto';
import { Catch, HttpException, HttpStatus, Inject, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { currentRequestId, isDomainError, scrubText, type DomainError, type Logger } from '@tributary/common';
import { ROOT_LOGGER } from '../web.tokens';

export interface ErrorBody {
  statusCode: number;
  /** Stable machine-readable code (DomainError.code, or `http_<status>` for framework errors). */
  error: string;
  message: string;
  requestId?: string;
  /** Only on 500s: quote it to support; the full error is logged under the same id. */
  errorId?: string;
  details?: Record<string, unknown>;
}

const STATUS_BY_CODE: Readonly<Record<string, HttpStatus>> = {
  validation: HttpStatus.BAD_REQUEST,
  unauthorized: HttpStatus.UNAUTHORIZED,
  forbidden: HttpStatus.FORBIDDEN,
  not_found: HttpStatus.NOT_FOUND,
  conflict: HttpStatus.CONFLICT,
  rate_limited: HttpStatus.TOO_MANY_REQUESTS,
  // Misconfiguration is the operator's fault, not the caller's.
  config: HttpStatus.INTERNAL_SERVER_ERROR,
};

/** The HTTP status for a domain error: by code, else 503 for anything worth retrying, else 422. */
export function statusForDomainError(err: DomainError): HttpStatus {
  const byCode = STATUS_BY_CODE[err.code];
  if (byCode !== undefined) return byCode;
  return err.retryable ? HttpStatus.SERVICE_UNAVAILABLE : HttpStatus.UNPROCESSABLE_ENTITY;
}

/**
 * The web app's one exception filter (registered as APP_FILTER). Domain errors become 4xx/503 with their message;
 * anything unexpected becomes a generic 500 whose errorId is logged with the full error, so no stack trace, SQL or
 * upstream payload ever reaches a client.
 */
@Catch()
export class GlobalExceptionFilter implements ExceptionFilter {
  constructor(@Inject(ROOT_LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const body = this.toBody(exception);
    if (res.headersSent) {
      this.logger.error({ err: exception, errorId: body.errorId }, 'error after the response started');
      res.end();
      return;
    }
    res.status(body.statusCode).json(body);
  }

  private toBody(exception: unknown): ErrorBody {
    const requestId = currentRequestId();
    if (isDomainError(exception)) {
      const statusCode: number = statusForDomainError(exception);
      const unavailable: number = HttpStatus.SERVICE_UNAVAILABLE;
      if (statusCode >= 500 && statusCode !== unavailable) return this.internal(exception, requestId);
      if (statusCode >= 500) this.logger.warn({ err: exception }, 'dependency unavailable');
      return {
        statusCode,
        error: exception.code,
        message: exception.message,
        requestId,
        ...(exception.code === 'validation' && exception.details !== undefined ? { details: exception.details } : {}),
      };
    }
    if (exception instanceof HttpException) {
      const statusCode = exception.getStatus();
      if (statusCode >= 500) return this.internal(exception, requestId);
      const response = exception.getResponse();
      const message =
        typeof response === 'object' && response !== null && 'message' in response
          ? response.message
          : exception.message;
      return {
        statusCode,
        error: `http_${statusCode}`,
        // Framework messages quote the URL ("Cannot GET /x?code=…"); never reflect credentials back.
        message: scrubText(Array.isArray(message) ? message.join('; ') : String(message)),
        requestId,
      };
    }
    return this.internal(exception, requestId);
  }

  private internal(exception: unknown, requestId: string | undefined): ErrorBody {
    const errorId = randomUUID();
    this.logger.error({ err: exception, errorId }, 'unhandled error');
    return {
      statusCode: HttpStatus.INTERNAL_SERVER_ERROR,
      error: 'internal',
      message: 'Internal server error',
      requestId,
      errorId,
    };
  }
}
