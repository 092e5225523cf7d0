import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ActivityQueryRepository, UserRepository } from '@tributary/db';
import { requirePageUser, sendPage } from '../site/page.util';
import { weekStarts, weeklyStats } from './stats.util';
import { STATS_RANGES, renderStats } from './stats.view';

const DAY_MS = 86_400_000;

/** Distance and time per week and per type, from the activity records (no files needed). */
@ApiExcludeController()
@Controller('stats')
export class StatsController {
  constructor(
    private readonly queries: ActivityQueryRepository,
    private readonly users: UserRepository,
  ) {}

  @Get()
  async stats(@Query('weeks') weeksParam: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const who = requirePageUser(req, res);
    if (who === undefined) return;
    const asked = Number(weeksParam);
    const weeks = (STATS_RANGES as readonly number[]).includes(asked) ? asked : 12;
    const now = new Date();
    const starts = weekStarts(now, weeks);
    // Weeks are local to each activity: a day of slack each side catches every zone; weeklyStats drops the rest.
    const from = new Date(starts[0]!.getTime() - DAY_MS);
    const to = new Date(starts[starts.length - 1]!.getTime() + 8 * DAY_MS);
    const [rows, user] = await Promise.all([
      this.queries.weeklyTotals(who.userId, { from, to }),
      this.users.findById(who.userId),
    ]);
    sendPage(
      res,
      200,
      renderStats({
        stats: weeklyStats(rows, starts),
        weeks,
        csrfToken: who.csrfToken,
        isAdmin: user?.role === 'admin',
      }),
    );
  }
}
