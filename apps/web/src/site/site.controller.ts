import { createHash } from 'node:crypto';
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { describeError, isDomainError, type Logger } from '@tributary/common';
import { ConnectorRegistry, type ServiceConnector } from '@tributary/connectors';
import { ConnectionRepository } from '@tributary/db';
import {
  CredentialsLoginService,
  isCredentialsConnectable,
  type LoginOutcome,
} from '../auth/credentials-login.service';
import { OAuthConnectService, isOAuthConnectable } from '../auth/oauth-connect.service';
import { SiteAccountService } from '../auth/site-account.service';
import { SiteSessionService } from '../auth/site-session.service';
import { sessionUserId } from '../auth/site-request.types';
import { ROOT_LOGGER } from '../web.tokens';
import { formField, pageHeaders, sendPage } from './page.util';
import { SITE_CSS } from './site-styles';
import { type ServiceCard, renderCredentialsLogin, renderErrorPage, renderLanding, renderMfaForm } from './site.views';

const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#0b63c5"/>' +
  '<path d="M6 22c6-10 10 2 20-10" stroke="#fff" stroke-width="3" fill="none" stroke-linecap="round"/></svg>';

const CSS_ETAG = `"${createHash('sha256').update(SITE_CSS).digest('base64url').slice(0, 16)}"`;

/**
 * The server-rendered website: landing, sign-in by connecting a service, disconnect, sign-out (the dashboard lives in
 * ../dashboard).
 */
@Controller()
export class SiteController {
  constructor(
    private readonly registry: ConnectorRegistry,
    private readonly connections: ConnectionRepository,
    private readonly sessions: SiteSessionService,
    private readonly oauth: OAuthConnectService,
    private readonly accounts: SiteAccountService,
    private readonly logins: CredentialsLoginService,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  @Get('assets/site.css')
  stylesheet(@Req() req: Request, @Res() res: Response): void {
    res.setHeader('ETag', CSS_ETAG);
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (req.headers['if-none-match'] === CSS_ETAG) {
      res.status(304).end();
      return;
    }
    res.type('text/css').send(SITE_CSS);
  }

  /** A favicon of our own: without one, browsers ask for /favicon.ico on every page and log the 404. */
  @Get(['assets/favicon.svg', 'favicon.ico'])
  favicon(@Res() res: Response): void {
    res.setHeader('Cache-Control', 'public, max-age=86400');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.type('image/svg+xml').send(FAVICON_SVG);
  }

  @Get()
  async landing(@Req() req: Request, @Res() res: Response): Promise<void> {
    const userId = sessionUserId(req);
    const connected = new Set(
      userId === undefined ? [] : (await this.connections.listForUser(userId)).map((c) => c.service),
    );
    const services = this.serviceCards().map((s) => ({ ...s, connected: connected.has(s.id) }));
    sendPage(
      res,
      200,
      renderLanding({ services, signedIn: userId !== undefined, csrfToken: req.siteSession?.csrfSecret }),
    );
  }

  @Get('connect/:service')
  async connect(@Param('service') service: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const connector = this.registry.has(service) ? this.registry.get(service) : undefined;
    if (connector !== undefined && isCredentialsConnectable(connector)) {
      const session = await this.sessions.ensure(req, res);
      sendPage(
        res,
        200,
        renderCredentialsLogin({
          service: connector,
          csrfToken: session.csrfSecret,
          signedIn: sessionUserId(req) !== undefined,
        }),
      );
      return;
    }
    if (connector === undefined || !isOAuthConnectable(connector)) {
      sendPage(
        res,
        404,
        renderErrorPage({
          title: 'Service not available',
          message: 'This service cannot be connected from the website on this hub.',
          status: 404,
        }),
      );
      return;
    }
    await this.sessions.ensure(req, res);
    pageHeaders(res);
    await this.oauth.start(service, req, res);
  }

  @Get('connect/:service/callback')
  async callback(@Param('service') service: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const connector = this.registry.has(service) ? this.registry.get(service) : undefined;
    if (connector === undefined || !isOAuthConnectable(connector)) {
      sendPage(res, 404, renderErrorPage({ title: 'Service not available', message: 'Unknown service.', status: 404 }));
      return;
    }
    let outcome;
    try {
      outcome = await this.oauth.finish(service, req, res);
    } catch (err) {
      this.logger.warn({ service, err: describeError(err) }, 'OAuth callback failed');
      const message = isDomainError(err)
        ? err.message
        : `${connector.name} did not accept the sign-in. Nothing was connected; please try again.`;
      sendPage(res, 502, renderErrorPage({ title: 'Could not connect', message, status: 502 }));
      return;
    }
    if (outcome.kind === 'refused') {
      this.logger.warn({ service, reason: outcome.reason }, 'OAuth callback refused');
      sendPage(
        res,
        outcome.status,
        renderErrorPage({ title: 'Connection refused', message: outcome.message, status: outcome.status }),
      );
      return;
    }
    const result = await this.accounts.connect(sessionUserId(req), service, outcome.account);
    await this.sessions.signIn(req, res, result.userId);
    res.redirect(303, `/dashboard?notice=${result.merged ? 'merged' : 'connected'}`);
  }

  @Post('connect/:service/login')
  async credentialsLogin(
    @Param('service') service: string,
    @Body() body: unknown,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const connector = this.credentialsConnector(service, res);
    if (connector === undefined || req.siteSession === undefined) return;
    const username = formField(body, 'username');
    const outcome = await this.logins.login(service, req.siteSession.id, username, formField(body, 'password'));
    await this.finishLogin(connector.id, connector.name, outcome, req, res, username);
  }

  @Post('connect/:service/mfa')
  async credentialsMfa(
    @Param('service') service: string,
    @Body() body: unknown,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const connector = this.credentialsConnector(service, res);
    if (connector === undefined || req.siteSession === undefined) return;
    const outcome = await this.logins.verify(service, req.siteSession.id, formField(body, 'code'));
    await this.finishLogin(connector.id, connector.name, outcome, req, res);
  }

  @Post('connections/:id/disconnect')
  @HttpCode(303)
  async disconnect(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const userId = sessionUserId(req);
    if (userId === undefined) {
      res.redirect(303, '/');
      return;
    }
    const { userDeleted } = await this.accounts.disconnect(userId, id);
    if (userDeleted) {
      await this.sessions.signOut(req, res);
      res.redirect(303, '/');
      return;
    }
    res.redirect(303, '/dashboard?notice=disconnected');
  }

  @Post('signout')
  async signOut(@Req() req: Request, @Res() res: Response): Promise<void> {
    await this.sessions.signOut(req, res);
    res.redirect(303, '/');
  }

  private credentialsConnector(service: string, res: Response): ServiceConnector | undefined {
    const connector = this.registry.has(service) ? this.registry.get(service) : undefined;
    if (connector !== undefined && isCredentialsConnectable(connector)) return connector;
    sendPage(res, 404, renderErrorPage({ title: 'Service not available', message: 'Unknown service.', status: 404 }));
    return undefined;
  }

  private async finishLogin(
    id: string,
    name: string,
    outcome: LoginOutcome,
    req: Request,
    res: Response,
    username?: string,
  ): Promise<void> {
    const csrfToken = req.siteSession?.csrfSecret ?? '';
    const signedIn = sessionUserId(req) !== undefined;
    const service = { id, name };
    if (outcome.kind === 'mfa') {
      sendPage(
        res,
        200,
        renderMfaForm({ service, csrfToken, signedIn, method: outcome.method, message: outcome.message }),
      );
      return;
    }
    if (outcome.kind === 'retry') {
      sendPage(
        res,
        outcome.status,
        renderCredentialsLogin({ service, csrfToken, signedIn, error: outcome.message, username }),
      );
      return;
    }
    const result = await this.accounts.connect(sessionUserId(req), id, outcome.account);
    await this.sessions.signIn(req, res, result.userId);
    res.redirect(303, `/dashboard?notice=${result.merged ? 'merged' : 'connected'}`);
  }

  private serviceCards(): ServiceCard[] {
    return this.registry.all().map((c: ServiceConnector) => ({
      id: c.id,
      name: c.name,
      authKind: c.auth.kind,
      supplies: c.capabilities.supplies,
      receives: c.capabilities.receives,
      connectable: isOAuthConnectable(c) || isCredentialsConnectable(c),
    }));
  }
}
