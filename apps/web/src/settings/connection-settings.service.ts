import { ValidationError, isDomainError } from '@tributary/common';
import {
  type ConnectorRegistry,
  DEFAULT_NAME_TEMPLATE,
  type JsonObject,
  dropboxConfig,
  localFolderConfig,
} from '@tributary/connectors';
import { type ConnectionRepository, type ConnectionView, type ExclusionRepository } from '@tributary/db';
import { formField } from '../site/page.util';
import { type ConnectionSettingsPage, type PeerConnection } from './settings.view';

/** Services that write files, and the validator of their connection config (from their connector). */
const FILE_SERVICES: Readonly<Record<string, (config: Readonly<JsonObject>) => unknown>> = {
  dropbox: dropboxConfig,
  local_folder: localFolderConfig,
};
const FILE_FORMATS: readonly string[] = ['fit', 'tcx', 'gpx', 'pwx'];

export type ConnectionSettingsModel = Omit<ConnectionSettingsPage, 'csrfToken' | 'notice' | 'error' | 'errors'>;

/** A form value that may repeat (checkbox groups arrive as a string or an array). */
function formValues(body: unknown, name: string): string[] {
  if (typeof body !== 'object' || body === null) return [];
  const value = (body as Record<string, unknown>)[name];
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/**
 * Per-connection settings: private activities, which other connections it sends to and receives from (stored as
 * flow exceptions: a pair is blocked when its box is unticked), and folder/name/format for file services.
 */
export class ConnectionSettingsService {
  constructor(
    private readonly registry: ConnectorRegistry,
    private readonly connections: ConnectionRepository,
    private readonly exclusions: ExclusionRepository,
  ) {}

  /** Throws NotFoundError for a connection that is not the user's. */
  async load(userId: string, connectionId: string): Promise<ConnectionSettingsModel> {
    const connection = await this.connections.getForUser(userId, connectionId);
    const others = (await this.connections.listForUser(userId)).filter((c) => c.id !== connection.id);
    const flows = await this.exclusions.listFlowExceptions(userId);
    const blocked = new Set(flows.map((f) => `${f.source_connection_id}>${f.target_connection_id}`));
    const caps = this.capabilities(connection.service);
    const peers = others.map((o): PeerConnection => {
      const oc = this.capabilities(o.service);
      return {
        id: o.id,
        serviceName: oc.name,
        sendTo: !blocked.has(`${connection.id}>${o.id}`),
        receiveFrom: !blocked.has(`${o.id}>${connection.id}`),
        receives: oc.receives,
        supplies: oc.supplies,
      };
    });
    const model: ConnectionSettingsModel = {
      id: connection.id,
      service: connection.service,
      serviceName: caps.name,
      account: connection.display_name ?? connection.external_user_id,
      supplies: caps.supplies,
      receives: caps.receives,
      syncPrivate: connection.config.syncPrivate === true,
      peers,
    };
    if (FILE_SERVICES[connection.service] !== undefined) {
      const c = connection.config;
      model.files = {
        folder: typeof c.folder === 'string' ? c.folder : '',
        nameTemplate: typeof c.nameTemplate === 'string' ? c.nameTemplate : DEFAULT_NAME_TEMPLATE,
        format: typeof c.format === 'string' ? c.format : 'fit',
        formats: FILE_FORMATS,
      };
    }
    return model;
  }

  /**
   * Validates the whole form first (the file settings through the connector's own config parser, so the page cannot
   * store anything the connector would refuse), then stores config and flow exceptions.
   */
  async save(userId: string, connectionId: string, body: unknown): Promise<void> {
    const model = await this.load(userId, connectionId);
    const patch: Record<string, unknown> = {};
    if (model.supplies) patch.syncPrivate = formField(body, 'syncPrivate') !== '';
    const validate = FILE_SERVICES[model.service];
    if (validate !== undefined) {
      const connection: ConnectionView = await this.connections.getForUser(userId, connectionId);
      const files = {
        folder: formField(body, 'folder').trim(),
        nameTemplate: formField(body, 'nameTemplate').trim(),
        format: formField(body, 'format'),
      };
      try {
        validate({ ...(connection.config as JsonObject), ...files });
      } catch (err) {
        if (!isDomainError(err)) throw err;
        throw new ValidationError(err.message, { fields: { [fieldOf(err.message)]: err.message } });
      }
      Object.assign(patch, files);
      // A new folder is a different listing: the delta cursor of the old one must not be reused.
      if (connection.config.folder !== files.folder) patch.cursor = null;
    }
    const sendTo = new Set(formValues(body, 'sendTo'));
    const receiveFrom = new Set(formValues(body, 'receiveFrom'));
    await this.connections.updateConfig(userId, connectionId, patch);
    for (const peer of model.peers) {
      if (model.supplies && peer.receives) {
        if (sendTo.has(peer.id)) await this.exclusions.removeFlowException(userId, connectionId, peer.id);
        else await this.exclusions.addFlowException(userId, connectionId, peer.id);
      }
      if (model.receives && peer.supplies) {
        if (receiveFrom.has(peer.id)) await this.exclusions.removeFlowException(userId, peer.id, connectionId);
        else await this.exclusions.addFlowException(userId, peer.id, connectionId);
      }
    }
  }

  private capabilities(service: string): { name: string; supplies: boolean; receives: boolean } {
    if (!this.registry.has(service)) return { name: service, supplies: false, receives: false };
    const c = this.registry.get(service);
    return { name: c.name, supplies: c.capabilities.supplies, receives: c.capabilities.receives };
  }
}

function fieldOf(message: string): string {
  if (/template/i.test(message)) return 'nameTemplate';
  if (/format/i.test(message)) return 'format';
  return 'folder';
}
