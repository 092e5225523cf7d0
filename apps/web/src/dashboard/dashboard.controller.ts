import { Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { requirePageUser, sendPage } from '../site/page.util';
import { CodeAsset } from './asset.util';
import { DASHBOARD_JS } from './dashboard-script';
import { DashboardService } from './dashboard.service';
import { renderDashboard } from './dashboard.view';

const SCRIPT = new CodeAsset(DASHBOARD_JS, 'text/javascript');

const NOTICES: Readonly<Record<string, string>> = {
  connected: 'Connected. Your first sync looks at your whole history and may take a while.',
  merged: 'That account already belonged to another Tributary account; the two were merged.',
  disconnected: 'Disconnected.',
  sync_queued: 'Sync requested. It starts as soon as a worker is free.',
  sync_unavailable: 'Sync now is not available on this hub right now; syncs still run on schedule.',
  resolved: 'Thanks. The problem is cleared and a sync is on its way.',
  not_found: 'That problem was already cleared.',
};

function noticeOf(query: Request['query']): string | undefined {
  if (query.notice === 'sync_cooldown') {
    const wait = Number(query.wait);
    return `A sync just ran or was requested. Sync now is available again in ${Number.isFinite(wait) ? wait : 60} s.`;
  }
  return typeof query.notice === 'string' ? NOTICES[query.notice] : undefined;
}

/** The signed-in home page: services and their status, "Sync now", problems with their fix, recent activities. */
@ApiExcludeController()
@Controller()
export class DashboardController {
  constructor(private readonly dashboard: DashboardService) {}

  @Get('assets/dashboard.js')
  script(@Req() req: Request, @Res() res: Response): void {
    SCRIPT.send(req, res);
  }

  @Get('dashboard')
  async page(@Req() req: Request, @Res() res: Response): Promise<void> {
    const user = requirePageUser(req, res);
    if (user === undefined) return;
    const model = await this.dashboard.overview(user.userId);
    sendPage(
      res,
      200,
      renderDashboard({ model, csrfToken: user.csrfToken, isAdmin: user.isAdmin, notice: noticeOf(req.query) }),
    );
  }

  /** The "Sync now" form without JavaScript (with it, the page calls POST /api/sync/now). */
  @Post('dashboard/sync')
  async syncNow(@Req() req: Request, @Res() res: Response): Promise<void> {
    const user = requirePageUser(req, res);
    if (user === undefined) return;
    const outcome = await this.dashboard.requestSync(user.userId);
    if (outcome.kind === 'cooldown') {
      res.redirect(303, `/dashboard?notice=sync_cooldown&wait=${outcome.retryAfterSeconds}`);
      return;
    }
    res.redirect(303, `/dashboard?notice=${outcome.kind === 'queued' ? 'sync_queued' : 'sync_unavailable'}`);
  }

  @Post('dashboard/errors/:id/resolve')
  async resolve(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const user = requirePageUser(req, res);
    if (user === undefined) return;
    const resolved = await this.dashboard.resolveError(user.userId, id);
    res.redirect(303, `/dashboard?notice=${resolved ? 'resolved' : 'not_found'}`);
  }
}
