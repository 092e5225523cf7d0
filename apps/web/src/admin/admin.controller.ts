import { Controller, Get, Param, Post, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { NotFoundError } from '@tributary/common';
import { sessionUserId } from '../auth/site-request.types';
import { sendPage } from '../site/page.util';
import { renderErrorPage } from '../site/site.views';
import { AdminGuard, AdminOnlyError, AdminPageFilter } from './admin.guard';
import { AdminAction, AdminService, isDurationWindow } from './admin.service';
import { renderAdminOverview, renderAuditLog, renderUserDetail, renderUserSearch } from './admin.views';

const AUDIT_ACTIONS: ReadonlySet<string> = new Set(Object.values(AdminAction));

/** The guard has run; this is the admin acting, for the audit log. */
function actor(req: Request): { actorId: string; csrfToken: string } {
  const actorId = sessionUserId(req);
  const csrfToken = req.siteSession?.csrfSecret;
  if (actorId === undefined || csrfToken === undefined) throw new AdminOnlyError();
  return { actorId, csrfToken };
}

function queryString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Admin pages: signed-in administrators only. Anyone else gets the hub's ordinary "unknown URL" answer, so the
 * pages do not advertise themselves. Every view of one user's data and every action is audited by AdminService.
 */
@Controller('admin')
@UseGuards(AdminGuard)
@UseFilters(AdminPageFilter)
export class AdminController {
  constructor(private readonly admin: AdminService) {}

  @Get()
  async overview(@Query('window') window: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const { csrfToken } = actor(req);
    const overview = await this.admin.overview(isDurationWindow(window) ? window : '24h');
    sendPage(res, 200, renderAdminOverview({ csrfToken, overview }));
  }

  @Get('users')
  async users(@Query('q') q: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const { actorId, csrfToken } = actor(req);
    const query = typeof q === 'string' ? q.trim().slice(0, 320) : '';
    const hits = query === '' ? null : await this.admin.searchUsers(actorId, query);
    sendPage(res, 200, renderUserSearch({ csrfToken, query, hits }));
  }

  @Get('users/:id')
  async user(
    @Param('id') id: string,
    @Query('notice') notice: unknown,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const { actorId, csrfToken } = actor(req);
    try {
      const detail = await this.admin.userDetail(actorId, id);
      sendPage(res, 200, renderUserDetail({ csrfToken, detail, notice: queryString(notice) }));
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      sendPage(res, 404, renderErrorPage({ title: 'No such user', message: 'No user has this id.', status: 404 }));
    }
  }

  @Post('users/:id/requeue')
  async requeue(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const { actorId } = actor(req);
    await this.act(res, id, async () => {
      const result = await this.admin.requeue(actorId, id);
      return !result.queued ? 'scheduled' : result.joinedExisting ? 'joined' : 'requeued';
    });
  }

  @Post('users/:id/unlock')
  async unlock(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const { actorId } = actor(req);
    await this.act(res, id, async () => {
      const result = await this.admin.unlock(actorId, id);
      return result.leaseReleased || result.failedRunId !== null ? 'unlocked' : 'nothing-to-unlock';
    });
  }

  @Get('audit')
  async audit(
    @Query('before') before: unknown,
    @Query('action') action: unknown,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const { csrfToken } = actor(req);
    const filter = typeof action === 'string' && AUDIT_ACTIONS.has(action) ? action : undefined;
    const entries = await this.admin.auditLog({ beforeId: queryString(before), action: filter });
    const last = entries.at(-1);
    sendPage(
      res,
      200,
      renderAuditLog({
        csrfToken,
        entries,
        action: filter,
        nextBefore: entries.length === 100 && last !== undefined ? last.id : undefined,
      }),
    );
  }

  /** Post/redirect/get: the action's outcome is shown on the user's page as a notice. */
  private async act(res: Response, userId: string, action: () => Promise<string>): Promise<void> {
    try {
      const notice = await action();
      res.redirect(303, `/admin/users/${encodeURIComponent(userId)}?notice=${notice}`);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      sendPage(res, 404, renderErrorPage({ title: 'No such user', message: 'No user has this id.', status: 404 }));
    }
  }
}
