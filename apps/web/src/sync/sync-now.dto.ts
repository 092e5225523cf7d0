import { ApiProperty } from '@nestjs/swagger';
import { type SyncNowResult } from './sync-now.service';

/** The answer of POST /api/sync/now, as documented in the OpenAPI document. */
export class SyncNowResultDto implements SyncNowResult {
  @ApiProperty({ format: 'uuid', description: 'The queued sync run; GET /api/sync/status follows it' })
  runId!: string;

  @ApiProperty({ description: 'Lists every activity of every service (the last sync is over 14 days old)' })
  exhaustive!: boolean;

  @ApiProperty({ description: 'A sync was already queued or running; this request joined it' })
  alreadyQueued!: boolean;
}
