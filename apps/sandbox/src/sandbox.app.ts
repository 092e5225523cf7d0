import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import express, { type NextFunction, type Request, type Response } from 'express';
import { SandboxClock } from './core/clock.util';
import { FaultRegistry } from './core/fault.service';
import { FixtureLibrary, resolveFixturesDir } from './core/fixtures.util';
import { rawBodyMiddleware } from './core/http.util';
import { RequestLog } from './core/request-log.service';
import type { SandboxContext } from './core/sandbox.context';
import { controlRouter } from './control/control.router';
import { DropboxSimulator } from './dropbox/dropbox.simulator';
import type { DropboxSettings } from './dropbox/dropbox.settings';
import { GarminSimulator } from './garmin/garmin.simulator';
import type { GarminSettings } from './garmin/garmin.settings';
import { SandboxModule } from './sandbox.module';
import { seedDemo, type SeedSummary } from './seed.util';
import { StravaSimulator } from './strava/strava.simulator';
import type { StravaSettings } from './strava/strava.settings';

export interface SandboxOptions {
  /** 0 picks a free port (tests). */
  port?: number;
  host?: string;
  /** Create the demo accounts with sample activities from the fixtures. */
  seed?: boolean;
  /** Directory holding fit/, tcx/, gpx/ sample files; defaults to <repo>/../shared/fixtures. */
  fixturesDir?: string;
  strava?: Partial<StravaSettings>;
  garmin?: Partial<GarminSettings>;
  dropbox?: Partial<DropboxSettings>;
}

/** Path prefix of every simulated host on the sandbox's single port. */
export const SANDBOX_PREFIXES = {
  strava: '/strava',
  garmin: '/garmin',
  garminSso: '/garmin-sso',
  dropboxWww: '/dropbox-www',
  dropboxApi: '/dropbox-api',
  dropboxContent: '/dropbox-content',
  dropboxNotify: '/dropbox-notify',
  control: '/_control',
} as const;

export interface Sandbox {
  ctx: SandboxContext;
  strava: StravaSimulator;
  garmin: GarminSimulator;
  dropbox: DropboxSimulator;
  fixtures: FixtureLibrary;
  seed?: SeedSummary;
}

export interface SandboxHandle extends Sandbox {
  app: INestApplication;
  /** Base URL, e.g. http://127.0.0.1:4000 */
  url: string;
  port: number;
  /** The base URLs to give the hub (STRAVA_BASE_URL, GARMIN_BASE_URL, …). */
  urls: {
    strava: string;
    garmin: string;
    garminSso: string;
    dropboxWww: string;
    dropboxApi: string;
    dropboxContent: string;
    dropboxNotify: string;
    control: string;
  };
  close(): Promise<void>;
}

/** Builds the Nest application with every simulator mounted; does not listen. */
export async function createSandboxApp(
  options: SandboxOptions = {},
): Promise<{ app: INestApplication; sandbox: Sandbox }> {
  const ctx: SandboxContext = {
    clock: new SandboxClock(),
    log: new RequestLog(),
    faults: new FaultRegistry(),
    hanging: new Set(),
    deliveries: [],
    background: new Set(),
  };
  let fixturesDir: string | undefined;
  try {
    fixturesDir = resolveFixturesDir(options.fixturesDir);
  } catch (err) {
    // Fixtures are only needed for seeding and fixture-based control calls; without --seed the sandbox still runs.
    if (options.seed === true || options.fixturesDir !== undefined) throw err;
  }
  const fixtures = new FixtureLibrary(fixturesDir);
  const strava = new StravaSimulator(ctx, options.strava);
  const garmin = new GarminSimulator(ctx, options.garmin);
  const dropbox = new DropboxSimulator(ctx, options.dropbox);
  const sandbox: Sandbox = { ctx, strava, garmin, dropbox, fixtures };
  if (options.seed === true) sandbox.seed = seedDemo({ strava, garmin, dropbox }, fixtures);

  const server = express();
  server.disable('x-powered-by');
  server.set('etag', false);
  server.use(rawBodyMiddleware);
  server.use(SANDBOX_PREFIXES.strava, strava.router());
  server.use(SANDBOX_PREFIXES.garminSso, garmin.ssoRouter());
  server.use(SANDBOX_PREFIXES.garmin, garmin.apiRouter());
  server.use(SANDBOX_PREFIXES.dropboxWww, dropbox.wwwRouter());
  server.use(SANDBOX_PREFIXES.dropboxApi, dropbox.apiRouter());
  server.use(SANDBOX_PREFIXES.dropboxContent, dropbox.contentRouter());
  server.use(SANDBOX_PREFIXES.dropboxNotify, dropbox.notifyRouter());
  server.use(SANDBOX_PREFIXES.control, controlRouter(ctx, { strava, garmin, dropbox }, fixtures));
  server.get('/', (_req, res) => {
    res.json({ name: 'tributary-sandbox', prefixes: SANDBOX_PREFIXES });
  });
  server.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    res
      .status(500)
      .json({ message: 'sandbox internal error', error: err instanceof Error ? err.message : String(err) });
  });

  const app = await NestFactory.create(SandboxModule, new ExpressAdapter(server), { bodyParser: false, logger: false });
  return { app, sandbox };
}

/** Starts the sandbox on `port` (0 = any free port) and returns its URLs and a close(). */
export async function startSandbox(options: SandboxOptions = {}): Promise<SandboxHandle> {
  const { app, sandbox } = await createSandboxApp(options);
  const host = options.host ?? '127.0.0.1';
  await app.listen(options.port ?? 0, host);
  const httpServer = app.getHttpServer() as Server;
  const port = (httpServer.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    ...sandbox,
    app,
    url,
    port,
    urls: {
      strava: url + SANDBOX_PREFIXES.strava,
      garmin: url + SANDBOX_PREFIXES.garmin,
      garminSso: url + SANDBOX_PREFIXES.garminSso,
      dropboxWww: url + SANDBOX_PREFIXES.dropboxWww,
      dropboxApi: url + SANDBOX_PREFIXES.dropboxApi,
      dropboxContent: url + SANDBOX_PREFIXES.dropboxContent,
      dropboxNotify: url + SANDBOX_PREFIXES.dropboxNotify,
      control: url + SANDBOX_PREFIXES.control,
    },
    close: async () => {
      sandbox.dropbox.wakeAll();
      for (const socket of sandbox.ctx.hanging) socket.destroy();
      sandbox.ctx.hanging.clear();
      httpServer.closeIdleConnections();
      await app.close();
    },
  };
}
