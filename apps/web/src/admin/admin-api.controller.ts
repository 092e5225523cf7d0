import { Controller, Get, Header, UseGuards } from '@nestjs/common';
import {
  ApiCookieAuth,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { type RunOverview } from '@tributary/db';
import { type QueueReport } from './admin-queues.service';
import { AdminGuard } from './admin.guard';
import { AdminService } from './admin.service';

export class QueueReportDto implements Omit<QueueReport, 'workers' | 'recentFailures' | 'schedulers'> {
  @ApiProperty({ example: 'sync' })
  name!: string;
  @ApiProperty()
  paused!: boolean;
  @ApiProperty({ description: 'Waiting and prioritized jobs' })
  waiting!: number;
  @ApiProperty()
  active!: number;
  @ApiProperty()
  delayed!: number;
  @ApiProperty({ description: 'Failed jobs kept for inspection' })
  failed!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'Age of the oldest runnable job in ms' })
  oldestWaitingMs!: number | null;
  @ApiProperty({ description: 'Active jobs whose worker lock has lapsed' })
  stalled!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'Connected workers; null when Redis refuses CLIENT LIST' })
  workerCount!: number | null;
  @ApiProperty({ description: 'Of the latest failed jobs, those BullMQ failed for stalling too often' })
  recentStalledFailures!: number;
  @ApiPropertyOptional({ description: 'Why the queue could not be read' })
  error?: string;
}

export class RunOverviewDto implements RunOverview {
  @ApiProperty()
  queued!: number;
  @ApiProperty()
  running!: number;
  @ApiProperty({ description: 'Running syncs whose heartbeat is older than the watchdog limit' })
  stale!: number;
  @ApiProperty()
  leasesHeld!: number;
  @ApiProperty({ description: 'Leases past their expiry that nobody released' })
  leasesExpired!: number;
}

export class AdminHealthDto {
  @ApiProperty({ type: String, format: 'date-time' })
  generatedAt!: string;
  @ApiProperty({ type: [QueueReportDto] })
  queues!: QueueReportDto[];
  @ApiProperty({ type: RunOverviewDto })
  runs!: RunOverviewDto;
  @ApiProperty({ description: 'Open sync error groups (service and code)' })
  openErrorGroups!: number;
}

/** Queue and sync health as JSON for administrators' scripts and dashboards (no user data). */
@ApiTags('admin')
@ApiCookieAuth('tributary_session')
@Controller('api/admin')
@UseGuards(AdminGuard)
export class AdminApiController {
  constructor(private readonly admin: AdminService) {}

  @Get('health')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Queues, workers, stalled and failed jobs, running syncs and leases (administrators only)' })
  @ApiOkResponse({ type: AdminHealthDto })
  @ApiForbiddenResponse({ description: 'Not signed in as an administrator' })
  async health(): Promise<AdminHealthDto> {
    const overview = await this.admin.overview('24h');
    return {
      generatedAt: overview.generatedAt.toISOString(),
      queues: overview.queues.map(({ workers, recentFailures, schedulers: _schedulers, ...q }) => ({
        ...q,
        workerCount: workers === null ? null : workers.length,
        recentStalledFailures: recentFailures.filter((f) => f.stalled).length,
      })),
      runs: overview.runs,
      openErrorGroups: overview.errorGroups.length,
    };
  }
}
