import { Body, Controller, Get, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { formField, sendPage } from '../site/page.util';
import { PasswordLoginService } from './password-login.service';
import { renderPasswordLogin } from './password-login.view';
import { SiteSessionService } from './site-session.service';
import { sessionUserId } from './site-request.types';

/** GET/POST /login: email + password sign-in, with the same session mechanics as signing in by connecting. */
@ApiExcludeController()
@Controller('login')
export class PasswordLoginController {
  constructor(
    private readonly logins: PasswordLoginService,
    private readonly sessions: SiteSessionService,
  ) {}

  @Get()
  async page(@Req() req: Request, @Res() res: Response): Promise<void> {
    if (sessionUserId(req) !== undefined) {
      res.redirect(303, '/dashboard');
      return;
    }
    // The form's CSRF token lives in a session, so a visitor gets an anonymous one here.
    const session = await this.sessions.ensure(req, res);
    sendPage(res, 200, renderPasswordLogin({ csrfToken: session.csrfSecret }));
  }

  @Post()
  async login(@Body() body: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const email = formField(body, 'email');
    const csrfToken = req.siteSession?.csrfSecret ?? '';
    const outcome = await this.logins.login(email, formField(body, 'password'), req.ip ?? 'unknown');
    if (outcome.kind === 'throttled') {
      res.setHeader('Retry-After', String(outcome.retryAfterSeconds));
      const minutes = Math.ceil(outcome.retryAfterSeconds / 60);
      const error = `Too many wrong passwords. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
      sendPage(res, 429, renderPasswordLogin({ csrfToken, email, error }));
      return;
    }
    if (outcome.kind === 'invalid') {
      sendPage(res, 401, renderPasswordLogin({ csrfToken, email, error: 'That email and password do not match.' }));
      return;
    }
    await this.sessions.signIn(req, res, outcome.userId);
    res.redirect(303, '/dashboard');
  }
}
