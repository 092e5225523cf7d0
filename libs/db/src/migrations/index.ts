import { type Migration } from 'kysely';
import * as createdHubSchema from './1795402800000-CreatedHubSchema';
import * as createdSessions from './1795489200000-CreatedSessions';
import * as createdActivityOriginals from './1795575600000-CreatedActivityOriginals';
import * as createdNotificationLog from './1795579200000-CreatedNotificationLog';
import * as indexedStatsSources from './1795582800000-IndexedStatsSources';
import * as indexedAdminDiagnostics from './1795590000000-IndexedAdminDiagnostics';
import * as addedConnectionTriggerTime from './1795600800000-AddedConnectionTriggerTime';

/**
 * Every migration, by name, in order. A static list (not a directory scan) so it works from the compiled dist and
 * under jest alike. Add new files here; names are `<epoch ms>-<PastTensePascalName>`.
 */
export const MIGRATIONS: Record<string, Migration> = {
  '1795402800000-CreatedHubSchema': createdHubSchema,
  '1795489200000-CreatedSessions': createdSessions,
  '1795575600000-CreatedActivityOriginals': createdActivityOriginals,
  '1795579200000-CreatedNotificationLog': createdNotificationLog,
  '1795582800000-IndexedStatsSources': indexedStatsSources,
  '1795590000000-IndexedAdminDiagnostics': indexedAdminDiagnostics,
  '1795600800000-AddedConnectionTriggerTime': addedConnectionTriggerTime,
};
