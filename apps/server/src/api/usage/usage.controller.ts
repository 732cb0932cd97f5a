import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Principal } from '@troupe/core';
import { USAGE_GROUPS, UsageService, UsageView } from '@troupe/gateway';
import { z } from 'zod';
import { CurrentPrincipal, Roles } from '../../http/auth.decorators';
import { ApiZodQuery, ZodPipe } from '../../http/zod';

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** An ISO 8601 date (midnight UTC) or date-time with a zone, as a Date. */
const isoInstant = (what: string) =>
  z
    .string()
    .refine((v) => (DATE_RE.test(v) || DATE_TIME_RE.test(v)) && !Number.isNaN(Date.parse(v)), {
      message: 'must be an ISO 8601 date (2025-01-31) or date-time with a zone (2025-01-31T12:00:00Z)',
    })
    .describe(what)
    .transform((v) => new Date(v))
    .optional();

const UsageQuerySchema = z.object({
  from: isoInstant('start of the range, included (default: 30 days before to)'),
  to: isoInstant('end of the range, excluded (default: now)'),
  groupBy: z.enum(USAGE_GROUPS, { message: `must be one of ${USAGE_GROUPS.join(', ')}` }).default('day'),
  project: z.uuid({ message: 'must be a project id (UUID)' }).optional(),
});
type UsageQueryParams = z.output<typeof UsageQuerySchema>;

@ApiTags('usage')
@ApiBearerAuth()
@Controller('api/v1/usage')
export class UsageController {
  constructor(private readonly usage: UsageService) {}

  @Get()
  @Roles('admin', 'member')
  @ApiOperation({
    summary:
      'Gateway usage: requests, prompt and completion tokens per service, API key or UTC day over [from, to). ' +
      'Members see their project; admins every project, or one with ?project=. 400 names a malformed parameter, 422 a range that is empty or longer than 400 days.',
  })
  @ApiZodQuery(UsageQuerySchema)
  summarize(
    @CurrentPrincipal() principal: Principal,
    @Query(new ZodPipe(UsageQuerySchema)) q: UsageQueryParams,
  ): Promise<UsageView> {
    return this.usage.summarize(principal, {
      from: q.from,
      to: q.to,
      groupBy: q.groupBy,
      projectId: q.project,
    });
  }
}
