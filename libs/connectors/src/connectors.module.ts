import { type DynamicModule, type InjectionToken, Module, type ModuleMetadata } from '@nestjs/common';
import { type AppConfig } from '@tributary/config';
import { CONNECTORS, type ConnectorFactoryDeps, ConnectorRegistry, createConnectors } from './connector.registry';
import { type ServiceConnector } from './service-connector.interface';

export interface ConnectorsModuleOptions extends ConnectorFactoryDeps {
  services: AppConfig['services'];
}

export const CONNECTORS_MODULE_OPTIONS = 'TRIBUTARY_CONNECTORS_MODULE_OPTIONS';

/** Provides CONNECTORS (the list) and ConnectorRegistry app-wide; options come from the app's config and Redis. */
@Module({})
export class ConnectorsModule {
  static forRootAsync(options: {
    imports?: ModuleMetadata['imports'];
    inject?: InjectionToken[];
    useFactory: (...args: never[]) => ConnectorsModuleOptions | Promise<ConnectorsModuleOptions>;
  }): DynamicModule {
    return {
      module: ConnectorsModule,
      global: true,
      imports: options.imports ?? [],
      providers: [
        { provide: CONNECTORS_MODULE_OPTIONS, inject: options.inject ?? [], useFactory: options.useFactory },
        {
          provide: CONNECTORS,
          inject: [CONNECTORS_MODULE_OPTIONS],
          useFactory: (o: ConnectorsModuleOptions): ServiceConnector[] => createConnectors(o.services, o),
        },
        {
          provide: ConnectorRegistry,
          inject: [CONNECTORS],
          useFactory: (connectors: ServiceConnector[]) => new ConnectorRegistry(connectors),
        },
      ],
      exports: [CONNECTORS, ConnectorRegistry],
    };
  }
}
