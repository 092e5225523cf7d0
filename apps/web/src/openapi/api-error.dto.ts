import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { type ErrorBody } from '../middleware/global-exception.filter';

/** The body of every error answer (GlobalExceptionFilter); reference it in ApiResponse decorators. */
export class ApiErrorDto implements ErrorBody {
  @ApiProperty({ example: 429 })
  statusCode!: number;

  @ApiProperty({ description: 'Stable machine-readable code', example: 'rate_limited' })
  error!: string;

  @ApiProperty({ example: 'A sync just ran or was requested; try again in 12 s' })
  message!: string;

  @ApiPropertyOptional({ description: 'The request id, also in the X-Request-Id header and the logs' })
  requestId?: string;

  @ApiPropertyOptional({ description: 'Only on 500s: quote it to support; the full error is logged under it' })
  errorId?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  details?: Record<string, unknown>;
}

/** Security scheme names declared in the document (openapi.setup.ts). */
export const SESSION_AUTH = 'session';
export const CSRF_AUTH = 'csrf';
