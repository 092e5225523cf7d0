import { Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { SignInRequiredError, SyncNowCooldownError } from './sync-now.error';
import { type SyncNowResult, SyncNowService } from './sync-now.service';

/** The user id the session middleware put on the request (`req.user = { id }`), if anyone is signed in. */
function signedInUserId(req: Request): string | undefined {
  const user: unknown = req.user;
  if (typeof user !== 'object' || user === null || !('id' in user)) return undefined;
  return typeof user.id === 'string' ? user.id : undefined;
}

/** JSON API behind the "Sync now" button. */
@Controller('api/sync')
export class SyncNowController {
  constructor(private readonly syncNow: SyncNowService) {}

  @Post('now')
  @HttpCode(202)
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
