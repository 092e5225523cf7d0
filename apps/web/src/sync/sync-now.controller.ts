import { Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiForbiddenResponse,
  ApiOperation,
  ApiSecurity,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiErrorDto, CSRF_AUTH, SESSION_AUTH } from '../openapi/api-error.dto';
import { SyncNowResultDto } from './sync-now.dto';
import { SignInRequiredError, SyncNowCooldownError } from './sync-now.error';
import { type SyncNowResult, SyncNowService } from './sync-now.service';

/** The user id the session middleware put on the request (`req.user = { id }`), if anyone is signed in. */
function signedInUserId(req: Request): string | undefined {
  const user: unknown = req.user;
  if (typeof user !== 'object' || user === null || !('id' in user)) return undefined;
  return typeof user.id === 'string' ? user.id : undefined;
}

/** JSON API behind the "Sync now" button. */
@ApiTags('sync')
// One requirement naming both: the session cookie AND the CSRF header (separate decorators would mean either).
@ApiSecurity({ [SESSION_AUTH]: [], [CSRF_AUTH]: [] })
@Controller('api/sync')
export class SyncNowController {
  constructor(private readonly syncNow: SyncNowService) {}

  @Post('now')
  @HttpCode(202)
  @ApiOperation({ summary: "Queue a sync of the signed-in user's connections at the highest priority" })
  @ApiAcceptedResponse({ type: SyncNowResultDto })
  @ApiUnauthorizedResponse({ description: 'Not signed in', type: ApiErrorDto })
  @ApiForbiddenResponse({ description: 'Missing or wrong CSRF token', type: ApiErrorDto })
  @ApiTooManyRequestsResponse({
    description: 'A sync just ran or was requested; Retry-After says when to try again',
    type: ApiErrorDto,
    headers: { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' } } },
  })
  async now(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<SyncNowResult> {
    const userId = signedInUserId(req);
    if (userId === undefined) throw new SignInRequiredError();
    try {
      return await this.syncNow.request(userId);
    } catch (err) {
      if (err instanceof SyncNowCooldownError) res.setHeader('Retry-After', String(err.retryAfterSeconds));
      throw err;
    }
  }
}
