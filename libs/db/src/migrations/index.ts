import { type Migration } from 'kysely';
import * as createdHubSchema from './1795402800000-CreatedHubSchema';
import * as createdSessions from './1795489200000-CreatedSessions';

/**
 * Every migration, by name, in order. A static list (not a directory scan) so it works from the compiled dist and
 * under jest alike. Add new files here; names are `<epoch ms>-<PastTensePascalName>`.
 */
export const MIGRATIONS: Record<string, Migration> = {
  '1795402800000-CreatedHubSchema': createdHubSchema,
  '1795489200000-CreatedSessions': createdSessions,
};
