import {
  type ConnectorContext,
  type ConnectorRegistry,
  type JsonObject,
  type ServiceConnector,
} from '@tributary/connectors';
import { type ConnectionRepository, type ConnectionView } from '@tributary/db';

/** Rows name services in kebab- or snake-case (see the worker's connectorIdOf); connectors use snake_case. */
export function connectorIdOf(service: string): string {
  return service.replace(/-/g, '_');
}

/** The connector of a connection row, or undefined when this hub does not run that service. */
export function connectorFor(registry: ConnectorRegistry, connection: ConnectionView): ServiceConnector | undefined {
  const id = connectorIdOf(connection.service);
  return registry.has(id) ? registry.get(id) : undefined;
}

/**
 * What a connector call needs for one of the user's connections outside a sync: decrypted credentials, and a
 * saveCredentials that stores a rotated token before the connector goes on (the old refresh token is then dead).
 */
export async function connectorContextFor(
  connections: ConnectionRepository,
  userId: string,
  connection: ConnectionView,
  connector: ServiceConnector,
): Promise<ConnectorContext> {
  let credentials: JsonObject = {};
  if (connector.auth.kind !== 'path') {
    const stored = await connections.readCredentials(userId, connection.id);
    if (stored !== null && typeof stored === 'object') credentials = stored as JsonObject;
  }
  const ctx: ConnectorContext = {
    connectionId: connection.id,
    externalUserId: connection.external_user_id,
    credentials,
    config: connection.config,
    saveCredentials: async (next) => {
      await connections.writeCredentials(userId, connection.id, next);
      ctx.credentials = next;
    },
  };
  return ctx;
}
