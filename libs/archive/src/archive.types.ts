import { type ActivityFormat } from '@tributary/activity';
import { type Logger } from '@tributary/common';
import { type ConnectorRegistry } from '@tributary/connectors';
import { type ConnectionRepository, type Database } from '@tributary/db';

export interface ArchiveDeps {
  database: Database;
  connections: ConnectionRepository;
  registry: ConnectorRegistry;
  logger?: Logger;
}

export interface ActivityFile {
  bytes: Uint8Array;
  format: ActivityFormat;
  fileName: string;
  /** The hub encoded these bytes (no source file, or a conversion), rather than handing out the source's own. */
  derived: boolean;
}

export interface ExportProgress {
  /** Activities written so far. */
  done: number;
  total: number;
  /** Zip bytes written to the output so far. */
  bytes: number;
}

export interface ExportOptions {
  onProgress?(p: ExportProgress): void;
  signal?: AbortSignal;
}

export interface ExportResult {
  activities: number;
  files: number;
  /** Activities whose file could not be had (listed in the index with the reason). */
  missing: number;
}
