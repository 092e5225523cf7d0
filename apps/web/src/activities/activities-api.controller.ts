import { Controller, Get, Header, Param, Query, Req } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiQuery,
  ApiSecurity,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { NotFoundError, ValidationError } from '@tributary/common';
import { ACTIVITY_LIST_STATUSES, ActivityQueryRepository, type ActivityListItem } from '@tributary/db';
import { sessionUserId } from '../auth/site-request.types';
import { ApiErrorDto, SESSION_AUTH } from '../openapi/api-error.dto';
import { SignInRequiredError } from '../sync/sync-now.error';
import { encodeCursor, parseFilter } from './activity-filter.util';
import { typeLabel } from './activity-format.util';
import { describePresence } from './presence-reason.util';

export class ActivityPresenceDto {
  @ApiProperty({ format: 'uuid' })
  connectionId!: string;
  @ApiProperty({ example: 'strava' })
  service!: string;
  @ApiProperty({ enum: ['present', 'missing', 'pending', 'excluded', 'failed'] })
  state!: string;
  @ApiProperty({ enum: ['present', 'missing', 'pending', 'excluded'], description: 'The state the website shows' })
  shownState!: string;
  @ApiProperty({ type: String, nullable: true, example: 'flow', description: "The planner's reason code" })
  reasonCode!: string | null;
  @ApiProperty({ example: 'You turned off copying between these services (send to / receive from settings).' })
  reason!: string;
  @ApiProperty({ type: String, nullable: true })
  remoteId!: string | null;
  @ApiProperty()
  failureCount!: number;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  nextAttemptAt!: string | null;
}

export class ActivityDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;
  @ApiProperty({ type: String, nullable: true })
  name!: string | null;
  @ApiProperty({ example: 'running' })
  type!: string;
  @ApiProperty({ example: 'Run' })
  typeLabel!: string;
  @ApiProperty({ format: 'date-time' })
  startAt!: string;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  endAt!: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'Europe/Berlin' })
  timezone!: string | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Metres' })
  distance!: number | null;
  @ApiProperty()
  private!: boolean;
  @ApiProperty({ type: [ActivityPresenceDto] })
  presence!: ActivityPresenceDto[];
}

export class ActivityPageDto {
  @ApiProperty({ type: [ActivityDto] })
  items!: ActivityDto[];
  @ApiPropertyOptional({ type: String, nullable: true, description: 'Pass as `after` for the next page' })
  next!: string | null;
}

export function activityDto(item: ActivityListItem): ActivityDto {
  const r = item.record;
  return {
    id: r.id,
    name: r.name,
    type: r.type,
    typeLabel: typeLabel(r.type),
    startAt: r.start_at.toISOString(),
    endAt: r.end_at === null ? null : r.end_at.toISOString(),
    timezone: r.timezone,
    distance: r.distance,
    private: r.private,
    presence: item.presence.map((p) => {
      const text = describePresence(p);
      return {
        connectionId: p.connectionId,
        service: p.service,
        state: p.state,
        shownState: text.state,
        reasonCode: p.reasonCode,
        reason: text.why,
        remoteId: p.remoteId,
        failureCount: p.failureCount,
        nextAttemptAt: p.nextAttemptAt === null ? null : p.nextAttemptAt.toISOString(),
      };
    }),
  };
}

function requireUser(req: Request): string {
  const userId = sessionUserId(req);
  if (userId === undefined) throw new SignInRequiredError();
  return userId;
}

/** The activities list as JSON, with the same filters as the page. */
@ApiTags('activities')
// Reads only: the session cookie is enough, no CSRF header.
@ApiSecurity({ [SESSION_AUTH]: [] })
@Controller('api/activities')
export class ActivitiesApiController {
  constructor(private readonly queries: ActivityQueryRepository) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: "The signed-in user's activities, newest first, with where each one is and why not" })
  @ApiQuery({ name: 'from', required: false, description: 'First day (YYYY-MM-DD, UTC)' })
  @ApiQuery({ name: 'to', required: false, description: 'Last day, inclusive (YYYY-MM-DD, UTC)' })
  @ApiQuery({ name: 'type', required: false, example: 'running' })
  @ApiQuery({ name: 'service', required: false, example: 'strava' })
  @ApiQuery({ name: 'status', required: false, enum: ACTIVITY_LIST_STATUSES })
  @ApiQuery({ name: 'after', required: false, description: '`next` of the previous page' })
  @ApiQuery({ name: 'limit', required: false, description: '1 to 100, default 25' })
  @ApiOkResponse({ type: ActivityPageDto })
  @ApiBadRequestResponse({ description: 'A filter value is invalid', type: ApiErrorDto })
  @ApiUnauthorizedResponse({ description: 'Not signed in', type: ApiErrorDto })
  async list(@Query() query: Record<string, unknown>, @Req() req: Request): Promise<ActivityPageDto> {
    const userId = requireUser(req);
    const { filter, problems } = parseFilter(query);
    // The page forgives bad values; an API client gets told, so it does not silently page through the wrong list.
    if (problems.length > 0) throw new ValidationError(problems.join(' '), { problems });
    const page = await this.queries.list(userId, filter);
    return { items: page.items.map(activityDto), next: page.next === undefined ? null : encodeCursor(page.next) };
  }

  @Get(':id')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'One activity of the signed-in user with its state at each connected service' })
  @ApiOkResponse({ type: ActivityDto })
  @ApiNotFoundResponse({ description: 'No such activity in this account', type: ApiErrorDto })
  @ApiUnauthorizedResponse({ description: 'Not signed in', type: ApiErrorDto })
  async get(@Param('id') id: string, @Req() req: Request): Promise<ActivityDto> {
    const userId = requireUser(req);
    const item = await this.queries.get(userId, id);
    if (item === undefined) throw new NotFoundError('activity', id);
    return activityDto(item);
  }
}
