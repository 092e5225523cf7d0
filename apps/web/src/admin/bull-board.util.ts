import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { type JobService, QueueName } from '@tributary/queue';

/** Where Bull Board is mounted; the admin guard runs before it. */
export const BULL_BOARD_PATH = '/admin/queues';

/**
 * Still self-only: every script, stylesheet, image and API call of the board is served by the hub itself. Two
 * differences from the site's policy, for this route only: `base-uri 'self'` (its HTML sets <base href> to find its
 * bundled assets) and inline styles, which its bundled JSON viewer (CodeMirror) injects as <style> elements with
 * contents that change as views open, so no fixed hash can allow them. Scripts stay 'self' only.
 */
export const BULL_BOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; " +
  "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'";

/**
 * The board's page template links a Google Fonts stylesheet. The CSP would refuse it anyway; it is removed from the
 * rendered HTML so an admin page names no third party at all and the console stays clean (system fonts are used).
 */
export function stripThirdPartyLinks(page: string): string {
  return page.replace(/<link\b[^>]*\bhref="(?:https?:)?\/\/[^"]*"[^>]*>/gi, '');
}

/**
 * Bull Board over every queue, read-only: jobs can be browsed but not retried, removed or promoted from it, since
 * such changes would bypass the audit log (admins use the audited requeue and unlock actions instead). Its API
 * calls carry no CSRF token either, so the CSRF middleware would refuse them anyway.
 */
export function createBullBoardRouter(jobs: JobService): RequestHandler {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    queues: Object.values(QueueName).map(
      (name) => new BullMQAdapter(jobs.queue(name), { readOnlyMode: true, allowRetries: false }),
    ),
    serverAdapter,
    options: {
      uiConfig: {
        boardTitle: 'Tributary queues',
        hideDocsLink: true,
        miscLinks: [{ text: 'Back to admin', url: '/admin' }],
      },
    },
  });
  const board = serverAdapter.getRouter() as RequestHandler;
  return (req: Request, res: Response, next: NextFunction): void => {
    res.setHeader('Content-Security-Policy', BULL_BOARD_CSP);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'same-origin');
    // The board's entry page is the only thing it renders from a template (assets and API answers are sent as is).
    const render = res.render.bind(res) as (
      view: string,
      options: object,
      done: (err: Error | null, page?: string) => void,
    ) => void;
    res.render = (view: string, options?: object) => {
      render(view, options ?? {}, (err, page) =>
        err !== null ? next(err) : res.send(stripThirdPartyLinks(page ?? '')),
      );
    };
    board(req, res, next);
  };
}
