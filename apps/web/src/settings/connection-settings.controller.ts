import { Body, Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { NotFoundError, ValidationError } from '@tributary/common';
import { formField, requirePageUser, sendPage } from '../site/page.util';
import { renderErrorPage } from '../site/site.views';
import { ConnectionSettingsService } from './connection-settings.service';
import { renderConnectionSettings } from './settings.view';

/** /connections/:id/settings for one of the signed-in user's connections (anyone else's is "not found"). */
@ApiExcludeController()
@Controller('connections/:id/settings')
export class ConnectionSettingsController {
  constructor(private readonly settings: ConnectionSettingsService) {}

  @Get()
  async page(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const user = requirePageUser(req, res);
    if (user === undefined) return;
    const model = await this.loadOr404(user.userId, id, res);
    if (model === undefined) return;
    const notice = req.query.notice === 'saved' ? 'Saved. The next sync uses these settings.' : undefined;
    sendPage(
      res,
      200,
      renderConnectionSettings({ ...model, csrfToken: user.csrfToken, isAdmin: user.isAdmin, notice }),
    );
  }

  @Post()
  async save(@Param('id') id: string, @Body() body: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const user = requirePageUser(req, res);
    if (user === undefined) return;
    const model = await this.loadOr404(user.userId, id, res);
    if (model === undefined) return;
    try {
      await this.settings.save(user.userId, id, body);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      const fields = err.details?.fields;
      const draft =
        model.files === undefined
          ? undefined
          : {
              ...model.files,
              folder: formField(body, 'folder'),
              nameTemplate: formField(body, 'nameTemplate'),
              format: formField(body, 'format') || model.files.format,
            };
      sendPage(
        res,
        400,
        renderConnectionSettings({
          ...model,
          ...(draft === undefined ? {} : { files: draft }),
          csrfToken: user.csrfToken,
          isAdmin: user.isAdmin,
          error: err.message,
          errors: typeof fields === 'object' && fields !== null ? (fields as Record<string, string>) : {},
        }),
      );
      return;
    }
    res.redirect(303, `/connections/${model.id}/settings?notice=saved`);
  }

  private async loadOr404(userId: string, id: string, res: Response) {
    try {
      return await this.settings.load(userId, id);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      sendPage(
        res,
        404,
        renderErrorPage({ title: 'Not found', message: 'There is no such connection in your account.', status: 404 }),
      );
      return undefined;
    }
  }
}
