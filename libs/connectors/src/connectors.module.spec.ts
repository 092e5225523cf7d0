import { Test } from '@nestjs/testing';
import { loadConfig } from '@tributary/config';
import { CONNECTORS, ConnectorRegistry } from './connector.registry';
import { ConnectorsModule } from './connectors.module';
import { UnlimitedRateLimiter } from './rate-limit/rate-limiter';
import { type ServiceConnector } from './service-connector.interface';

describe(ConnectorsModule.name, () => {
  it('should provide the connector list and the registry from async options', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConnectorsModule.forRootAsync({
          useFactory: () => ({ services: loadConfig({}).services, limiter: new UnlimitedRateLimiter() }),
        }),
      ],
    }).compile();
    const list = moduleRef.get<ServiceConnector[]>(CONNECTORS);
    expect(list.map((c) => c.id)).toEqual(['strava', 'garmin_connect', 'dropbox']);
    expect(moduleRef.get(ConnectorRegistry).get('dropbox')).toBe(list[2]);
    await moduleRef.close();
  });
});
