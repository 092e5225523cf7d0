import {
  type ArgumentsHost,
  Catch,
  type CanActivate,
  type ExceptionFilter,
  type ExecutionContext,
  Inject,
  Injectable,
} from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { PermanentError, currentRequestId, scrubText } from '@tributary/common';
import { type UserRepository } from '@tributary/db';
import { sessionUserId } from '../auth/site-request.types';

/** Refusal of an admin route; the API answers 403, pages answer as if the route did not exist. */
export class AdminOnlyError extends PermanentError {
  constructor() {
    super('forbidden', 'Administrators only');
  }
}

/** The repository method the guard needs; a token so the admin module can hand over its own instance. */
export const ADMIN_USERS = Symbol('ADMIN_USERS');
export type AdminUsers = Pick<UserRepository, 'findById'>;

/**
 * The signed-in user's id when that user is an administrator right now. The role is read from the database on every
 * request, not from the session, so demoting an admin takes effect at once.
 */
export async function adminUserId(req: Request, users: AdminUsers): Promise<string | undefined> {
  const userId = sessionUserId(req);
  if (userId === undefined) return undefined;
  const user = await users.findById(userId);
  return user?.role === 'admin' ? userId : undefined;
}

/**
 * Guards every admin route: signed in AND role admin, else AdminOnlyError. Admin page controllers add
 * AdminPageFilter so that refusal looks like any unknown URL.
 */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(@Inject(ADMIN_USERS) private readonly users: AdminUsers) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    if ((await adminUserId(req, this.users)) === undefined) throw new AdminOnlyError();
    return true;
  }
}

/**
 * Exactly what the hub answers for a URL no route serves (the global filter's body for Nest's NotFoundException),
 * so a visitor probing /admin cannot tell that it exists.
 */
export function sendUnknownRoute(req: Request, res: Response): void {
  res.status(404).json({
    statusCode: 404,
    error: 'http_404',
    message: scrubText(`Cannot ${req.method} ${req.originalUrl}`),
    requestId: currentRequestId(),
  });
}

/** For admin pages: a refusal is answered as an unknown URL (404), never as "forbidden". */
@Catch(AdminOnlyError)
export class AdminPageFilter implements ExceptionFilter {
  catch(_error: AdminOnlyError, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendUnknownRoute(http.getRequest<Request>(), http.getResponse<Response>());
  }
}

/** The same check as Express middleware, for the admin routes that are not Nest controllers (Bull Board). */
export function adminOnlyMiddleware(users: AdminUsers): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    adminUserId(req, users).then((id) => (id === undefined ? sendUnknownRoute(req, res) : next()), next);
  };
}
