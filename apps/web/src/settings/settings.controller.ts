import { Body, Controller, Get, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { exportUserData, type ArchiveDeps } from '@tributary/archive';
import { describeError, type Logger, ValidationError } from '@tributary/common';
import { type AppConfig } from '@tributary/config';
import { NotificationRepository, UserRepository } from '@tributary/db';
import { PasswordLoginService } from '../auth/password-login.service';
import { SiteSessionService } from '../auth/site-session.service';
import { CodeAsset } from '../dashboard/asset.util';
import { formField, pageHeaders, requirePageUser, sendPage } from '../site/page.util';
import { APP_CONFIG, ROOT_LOGGER } from '../web.tokens';
import { AccountDeletionService } from './account-deletion.service';
import { notificationFormInput, parseSyncSettingsForm } from './account-settings.util';
import { SETTINGS_JS } from './settings-script';
import { type AccountSettingsPage, renderAccountSettings } from './settings.view';

export const ARCHIVE_DEPS = Symbol('ARCHIVE_DEPS');

const SCRIPT = new CodeAsset(SETTINGS_JS, 'text/javascript');

const NOTICES: Readonly<Record<string, string>> = {
  saved: 'Settings saved.',
  password: 'Password login is on. You can now sign in at /login with your email and password.',
  password_removed: 'Password login is off.',
};

/** Field names of ValidationError details, mapped to the form field they belong to. */
function fieldErrors(err: ValidationError, rename: Readonly<Record<string, string>> = {}): Record<string, string> {
  const fields = err.details?.fields;
  const out: Record<string, string> = {};
  if (typeof fields !== 'object' || fields === null) return out;
  for (const [k, v] of Object.entries(fields as Record<string, unknown>)) {
    if (typeof v === 'string') out[rename[k] ?? k] = v;
  }
  return out;
}

function draftOf(body: unknown): Record<string, string> {
  const names = ['uploadDelayMinutes', 'skipBefore', 'timezone', 'notifyEmail', 'notifyWebhookUrl', 'email'];
  return Object.fromEntries(names.map((n) => [n, formField(body, n)]));
}

/** /settings: sync preferences, notifications, password login, export and account deletion. */
@ApiExcludeController()
@Controller()
export class SettingsController {
  constructor(
    private readonly users: UserRepository,
    private readonly notifications: NotificationRepository,
    private readonly passwords: PasswordLoginService,
    private readonly deletion: AccountDeletionService,
    private readonly sessions: SiteSessionService,
    @Inject(ARCHIVE_DEPS) private readonly archive: ArchiveDeps,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  @Get('assets/settings.js')
  script(@Req() req: Request, @Res() res: Response): void {
    SCRIPT.send(req, res);
  }

  @Get('settings')
  async page(@Req() req: Request, @Res() res: Response): Promise<void> {
    const user = requirePageUser(req, res);
    if (user === undefined) return;
    const notice = typeof req.query.notice === 'string' ? NOTICES[req.query.notice] : undefined;
    await this.render(res, 200, user, { notice });
  }

  @Post('settings')
  async save(@Body() body: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const user = requirePageUser(req, res);
    if (user === undefined) return;
    try {
      const sync = parseSyncSettingsForm(body);
      // Notifications are validated (and stored) first: a refused field there must not leave half the form saved.
      await this.notifications.updateSettings(user.userId, notificationFormInput(body), {
        allowHttpWebhooks: this.config.notifications.allowHttpWebhooks,
      });
      await this.users.updateSettings(user.userId, sync);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      await this.render(res, 400, user, {
        error: err.message,
        errors: fieldErrors(err),
        draft: draftOf(body),
      });
      return;
    }
    res.redirect(303, '/settings?notice=saved');
  }

  @Post('settings/password')
  async setPassword(@Body() body: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const user = requirePageUser(req, res);
    if (user === undefined) return;
    try {
      await this.passwords.setLogin(user.userId, {
        email: formField(body, 'email'),
        password: formField(body, 'password'),
        confirm: formField(body, 'confirm'),
        currentPassword: formField(body, 'currentPassword'),
      });
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      await this.render(res, 400, user, {
        error: err.message,
        errors: fieldErrors(err, { email: 'loginEmail' }),
        draft: { email: formField(body, 'email') },
      });
      return;
    }
    res.redirect(303, '/settings?notice=password');
  }

  @Post('settings/password/remove')
  async removePassword(@Body() body: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const user = requirePageUser(req, res);
    if (user === undefined) return;
    try {
      await this.passwords.removeLogin(user.userId, formField(body, 'currentPassword'));
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      await this.render(res, 400, user, { error: err.message });
      return;
    }
    res.redirect(303, '/settings?notice=password_removed');
  }

  /** Streams the zip as it is written; a client that goes away stops the export. */
  @Get('settings/export')
  async export(@Req() req: Request, @Res() res: Response): Promise<void> {
    const user = requirePageUser(req, res);
    if (user === undefined) return;
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    pageHeaders(res);
    res.status(200);
    res.setHeader('Content-Type', 'application/zip');
    res.setHeader(
      'Content-Disposition',
      `attachment; filename="tributary-export-${new Date().toISOString().slice(0, 10)}.zip"`,
    );
    try {
      const result = await exportUserData(this.archive, user.userId, res, { signal: abort.signal });
      this.logger.info({ userId: user.userId, ...result }, 'data export finished');
    } catch (err) {
      // Headers are gone already: breaking the connection is the only way to tell the browser the zip is incomplete.
      this.logger.warn({ userId: user.userId, err: describeError(err) }, 'data export failed');
      res.destroy();
    }
  }

  @Post('settings/delete')
  async deleteAccount(@Body() body: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const user = requirePageUser(req, res);
    if (user === undefined) return;
    if (formField(body, 'confirm').trim().toUpperCase() !== 'DELETE') {
      await this.render(res, 400, user, {
        error: 'Type DELETE to confirm that the account should be deleted.',
        errors: { deleteConfirm: 'Type DELETE here' },
      });
      return;
    }
    const { revoked } = await this.deletion.delete(user.userId);
    this.logger.info({ userId: user.userId, revoked }, 'account deleted by its owner');
    await this.sessions.signOut(req, res);
    res.redirect(303, '/');
  }

  private async render(
    res: Response,
    status: number,
    user: { userId: string; csrfToken: string; isAdmin: boolean },
    extra: Pick<AccountSettingsPage, 'notice' | 'error' | 'errors' | 'draft'>,
  ): Promise<void> {
    const [settings, notifications, login] = await Promise.all([
      this.users.getSettings(user.userId),
      this.notifications.getSettings(user.userId),
      this.passwords.hasPassword(user.userId),
    ]);
    sendPage(
      res,
      status,
      renderAccountSettings({
        csrfToken: user.csrfToken,
        isAdmin: user.isAdmin,
        settings,
        notifications: notifications.settings,
        accountEmail: login.email,
        passwordEnabled: login.enabled,
        ...extra,
      }),
    );
  }
}
