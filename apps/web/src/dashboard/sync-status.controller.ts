import { Controller, Get, Header, Req } from '@nestjs/common';
import {
  ApiCookieAuth,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { sessionUserId } from '../auth/site-request.types';
import { ApiErrorDto, SESSION_AUTH } from '../openapi/api-error.dto';
import { SignInRequiredError } from '../sync/sync-now.error';
import { DashboardService } from './dashboard.service';
import { type SyncState, type SyncStatus } from './sync-status.util';

/** The OpenAPI shape of SyncStatus. */
export class SyncStatusDto implements SyncStatus {
  @ApiProperty({ enum: ['idle', 'queued', 'running', 'succeeded', 'partial', 'failed'] })
  state!: SyncState;
  @ApiProperty({ description: 'Queued or running: keep polling' })
  active!: boolean;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' })
  runId!: string | null;
  @ApiProperty({ minimum: 0, maximum: 100 })
  percent!: number;
  @ApiProperty({ type: String, nullable: true, example: 'listing strava' })
  phase!: string | null;
  @ApiProperty({ example: 'listing Strava', description: 'queued, listing <service>, 42 %, done, failed…' })
  label!: string;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  queuedAt!: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  finishedAt!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' }, example: { listed: 12, uploaded: 2 } })
  counts!: Record<string, number>;
  @ApiProperty({ description: 'Seconds until POST /api/sync/now is accepted again' })
  cooldownSeconds!: number;
}

/** Live progress of the signed-in user's latest sync, polled by the dashboard. */
@ApiTags('sync')
@ApiCookieAuth(SESSION_AUTH)
@Controller('api/sync')
export class SyncStatusController {
  constructor(private readonly dashboard: DashboardService) {}

  @Get('status')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: "The signed-in user's latest sync: state, phase, percent and the Sync now cooldown" })
  @ApiOkResponse({ type: SyncStatusDto })
  @ApiUnauthorizedResponse({ description: 'Not signed in', type: ApiErrorDto })
  async status(@Req() req: Request): Promise<SyncStatus> {
    const userId = sessionUserId(req);
    if (userId === undefined) throw new SignInRequiredError();
    return this.dashboard.status(userId);
  }
}
