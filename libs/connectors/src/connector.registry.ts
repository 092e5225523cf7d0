import { type AppConfig } from '@tributary/config';
import { NotFoundError } from '@tributary/common';
import { type RequestObserver } from './http/http-client';
import { type RateLimiter } from './rate-limit/rate-limiter';
import { type ActivityCodec } from './shared/activity-codec';
import { formatsCodec } from './shared/formats-codec';
import { type ServiceConnector, type ServiceId } from './service-connector.interface';
import { StravaConnector } from './strava/strava.connector';
import { GarminConnector } from './garmin/garmin.connector';
import { DropboxConnector } from './dropbox/dropbox.connector';
import { LocalFolderConnector } from './local-folder/local-folder.connector';

/** Injection token for the list of connectors (multi-provider style: one entry per service). */
export const CONNECTORS = 'TRIBUTARY_CONNECTORS';

/** Every connector by id; the sync engine and the web app look services up here. */
export class ConnectorRegistry {
  private readonly byId = new Map<ServiceId, ServiceConnector>();

  constructor(connectors: readonly ServiceConnector[]) {
    for (const c of connectors) this.byId.set(c.id, c);
  }

  get(id: string): ServiceConnector {
    const c = this.byId.get(id as ServiceId);
    if (c === undefined) throw new NotFoundError('Service', id);
    return c;
  }

  has(id: string): id is ServiceId {
    return this.byId.has(id as ServiceId);
  }

  all(): ServiceConnector[] {
    return [...this.byId.values()];
  }
}

export interface ConnectorFactoryDeps {
  limiter: RateLimiter;
  codec?: ActivityCodec;
  observer?: RequestObserver;
}

/**
 * The connectors for a configuration: base URLs and client credentials come from AppConfig.services, so each
 * service can point at the sandbox or the real API. The local folder service exists only with LOCAL_FOLDER_ROOT.
 */
export function createConnectors(services: AppConfig['services'], deps: ConnectorFactoryDeps): ServiceConnector[] {
  const shared = { limiter: deps.limiter, codec: deps.codec ?? formatsCodec, observer: deps.observer };
  const list: ServiceConnector[] = [
    new StravaConnector(
      {
        baseUrl: services.strava.baseUrl,
        clientId: services.strava.clientId,
        clientSecret: services.strava.clientSecret,
        webhookVerifyToken: services.strava.webhookVerifyToken,
        limits: services.strava.limits,
      },
      shared,
    ),
    new GarminConnector(
      {
        baseUrl: services.garmin.baseUrl,
        ssoUrl: services.garmin.ssoUrl,
        requestBudget: { capacity: services.garmin.requestsPerSecond, windowMs: 1000 },
      },
      shared,
    ),
    new DropboxConnector(
      {
        apiUrl: services.dropbox.apiUrl,
        contentUrl: services.dropbox.contentUrl,
        notifyUrl: services.dropbox.notifyUrl,
        clientId: services.dropbox.clientId,
        clientSecret: services.dropbox.clientSecret,
      },
      shared,
    ),
  ];
  if (services.localFolder.root !== undefined) {
    list.push(new LocalFolderConnector({ root: services.localFolder.root }, shared.codec));
  }
  return list;
}
