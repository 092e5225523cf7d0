import 'passport';
import type { Request } from 'express';
import { type SessionView } from '@tributary/db';

/*
 * What the session middleware puts on every request: the session (when the browser has one) and, once signed in,
 * `req.user = { id }`. Express.User stays passport's empty interface (connectors hand passport other objects as
 * "user"), so read the id through sessionUserId().
 */
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      siteSession?: SessionView;
    }
  }
}

/** The signed-in user's id, or undefined for visitors; everything user-scoped must use this. */
export function sessionUserId(req: Request): string | undefined {
  const user: unknown = req.user;
  if (typeof user !== 'object' || user === null || !('id' in user)) return undefined;
  return typeof user.id === 'string' ? user.id : undefined;
}
