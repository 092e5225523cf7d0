import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';

/** A script or stylesheet kept in code (served by the hub itself: no CDN, works offline), with a content ETag. */
export class CodeAsset {
  private readonly etag: string;

  constructor(
    private readonly body: string,
    private readonly type: 'text/javascript' | 'text/css',
  ) {
    this.etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`;
  }

  send(req: Request, res: Response): void {
    res.setHeader('ETag', this.etag);
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (req.headers['if-none-match'] === this.etag) {
      res.status(304).end();
      return;
    }
    res.type(this.type).send(this.body);
  }
}
