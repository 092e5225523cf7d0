import { Body, Controller, Get, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { type Activity, type ActivityFormat } from '@tributary/activity';
import { ActivityFiles } from '@tributary/archive';
import { describeError, isDomainError, type Logger } from '@tributary/common';
import { type AppConfig } from '@tributary/config';
import { ConnectorRegistry } from '@tributary/connectors';
import { ActivityQueryRepository, ConnectionRepository, UserRepository } from '@tributary/db';
import { statusForDomainError } from '../middleware/global-exception.filter';
import { formField, pageHeaders, requirePageUser, sendPage } from '../site/page.util';
import { renderErrorPage } from '../site/site.views';
import { APP_CONFIG, ROOT_LOGGER } from '../web.tokens';
import { renderActivityDetail } from './activity-detail.view';
import { filterQuery, parseFilter } from './activity-filter.util';
import { type ListConnection, renderActivityList } from './activity-list.view';
import { ActivityResyncService } from './activity-resync.service';
import { allowTileImages } from './map-tiles.util';

const DOWNLOAD_TYPES: Readonly<Record<ActivityFormat, string>> = {
  fit: 'application/vnd.ant.fit',
  tcx: 'application/vnd.garmin.tcx+xml',
  gpx: 'application/gpx+xml',
  pwx: 'application/xml',
};
const CONVERTIBLE: readonly ActivityFormat[] = ['fit', 'tcx', 'gpx'];

const NOTICES: Readonly<Record<string, string>> = {
  resynced: 'Its failures and exclusions were cleared and a full sync was queued.',
  resync_scheduled: 'Its failures and exclusions were cleared. A full sync is scheduled and starts shortly.',
  forgotten: 'The hub forgot that activity. The next sync finds it again as new.',
};

const DETAIL_PATH = /^\/activities\/[0-9a-f-]{36}$/i;

/** The activities pages: the list, one activity with map and charts, downloads, resync and forget. */
@ApiExcludeController()
@Controller('activities')
export class ActivitiesController {
  constructor(
    private readonly queries: ActivityQueryRepository,
    private readonly connections: ConnectionRepository,
    private readonly users: UserRepository,
    private readonly registry: ConnectorRegistry,
    private readonly files: ActivityFiles,
    private readonly resyncs: ActivityResyncService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  @Get()
  async list(@Query() query: Record<string, unknown>, @Req() req: Request, @Res() res: Response): Promise<void> {
    const who = requirePageUser(req, res);
    if (who === undefined) return;
    const { filter, form, problems } = parseFilter(query, { maxLimit: 100 });
    const [page, connections, types, isAdmin] = await Promise.all([
      this.queries.list(who.userId, filter),
      this.listConnections(who.userId),
      this.queries.types(who.userId),
      this.isAdmin(who.userId),
    ]);
    sendPage(
      res,
      200,
      renderActivityList({
        items: page.items,
        connections,
        form,
        problems,
        types,
        services: connections.map((c) => ({ id: c.service, name: c.name })),
        nextHref: page.next === undefined ? undefined : `/activities${filterQuery(form, page.next)}`,
        firstHref: filter.after === undefined ? undefined : `/activities${filterQuery(form)}`,
        csrfToken: who.csrfToken,
        isAdmin,
        notice: this.notice(query),
      }),
    );
  }

  @Get(':id')
  async detail(
    @Param('id') id: string,
    @Query() query: Record<string, unknown>,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const who = requirePageUser(req, res);
    if (who === undefined) return;
    const item = await this.queries.get(who.userId, id);
    if (item === undefined) {
      this.notFound(res);
      return;
    }
    let activity: Activity | undefined;
    let fileProblem: string | undefined;
    try {
      activity = await this.files.activity(who.userId, id);
    } catch (err) {
      this.logger.warn({ recordId: id, err: describeError(err) }, 'activity file unavailable for the detail page');
      fileProblem = isDomainError(err)
        ? `The activity file could not be read, so the map, charts and laps are missing: ${err.message}. ` +
          'The figures below come from what the hub recorded when it listed the activity.'
        : 'The activity file could not be read, so the map, charts and laps are missing. ' +
          'The figures below come from what the hub recorded when it listed the activity.';
    }
    const [connections, isAdmin] = await Promise.all([this.listConnections(who.userId), this.isAdmin(who.userId)]);
    const tileUrl = this.config.web.mapTileUrl;
    const body = renderActivityDetail({
      item,
      connections,
      activity,
      fileProblem,
      tiles: tileUrl === undefined ? undefined : { url: tileUrl, attribution: this.config.web.mapTileAttribution },
      csrfToken: who.csrfToken,
      isAdmin,
      notice: this.notice(query),
    });
    pageHeaders(res);
    allowTileImages(res, tileUrl);
    res.status(200).type('html').send(body);
  }

  @Get(':id/download')
  async download(
    @Param('id') id: string,
    @Query('format') format: unknown,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const who = requirePageUser(req, res);
    if (who === undefined) return;
    const wanted = typeof format === 'string' && format !== '' ? format : 'original';
    if (wanted !== 'original' && !(CONVERTIBLE as readonly string[]).includes(wanted)) {
      sendPage(
        res,
        400,
        renderErrorPage({
          title: 'Unknown format',
          message: `Downloads come as original, fit, tcx or gpx; "${wanted}" is not one of them.`,
          status: 400,
        }),
      );
      return;
    }
    try {
      const file =
        wanted === 'original'
          ? await this.files.original(who.userId, id)
          : await this.files.inFormat(who.userId, id, wanted as ActivityFormat);
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Content-Disposition', contentDisposition(file.fileName));
      res.status(200).type(DOWNLOAD_TYPES[file.format]).send(Buffer.from(file.bytes));
    } catch (err) {
      if (!isDomainError(err)) throw err;
      const status: number = statusForDomainError(err);
      this.logger.warn({ recordId: id, format: wanted, err: describeError(err) }, 'activity download failed');
      if (err.retryable) res.setHeader('Retry-After', '60');
      sendPage(
        res,
        status,
        renderErrorPage({
          title: status === 404 ? 'Activity not found' : 'Download not available',
          message:
            status === 404
              ? 'There is no such activity in your account, or no service can supply its file any more.'
              : err.retryable
                ? `The file cannot be fetched right now (${err.message}). Please try again in a minute.`
                : `The file cannot be made in this format: ${err.message}.`,
          status,
        }),
      );
    }
  }

  @Post(':id/resync')
  async resync(
    @Param('id') id: string,
    @Body() body: unknown,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const who = requirePageUser(req, res);
    if (who === undefined) return;
    const back = formField(body, 'back');
    const target = DETAIL_PATH.test(back) ? back : '/activities';
    try {
      const result = await this.resyncs.resync(who.userId, id);
      res.redirect(303, `${target}?notice=${result.queued ? 'resynced' : 'resync_scheduled'}`);
    } catch (err) {
      if (isDomainError(err) && err.code === 'not_found') {
        this.notFound(res);
        return;
      }
      throw err;
    }
  }

  @Post(':id/forget')
  async forget(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const who = requirePageUser(req, res);
    if (who === undefined) return;
    if (!(await this.queries.forget(who.userId, id))) {
      this.notFound(res);
      return;
    }
    res.redirect(303, '/activities?notice=forgotten');
  }

  private notFound(res: Response): void {
    sendPage(
      res,
      404,
      renderErrorPage({
        title: 'Activity not found',
        message: 'There is no such activity in your account.',
        status: 404,
      }),
    );
  }

  private notice(query: Record<string, unknown>): string | undefined {
    return typeof query.notice === 'string' ? NOTICES[query.notice] : undefined;
  }

  private async isAdmin(userId: string): Promise<boolean> {
    return (await this.users.findById(userId))?.role === 'admin';
  }

  private async listConnections(userId: string): Promise<ListConnection[]> {
    const rows = await this.connections.listForUser(userId);
    return rows.map((c) => ({
      id: c.id,
      service: c.service,
      name: this.registry.has(c.service) ? this.registry.get(c.service).name : c.service,
    }));
  }
}

/** An attachment header safe for any file name: an ASCII fallback plus the RFC 5987 UTF-8 form. */
export function contentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}
