import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ACTIVITY_MAP_JS } from './activity-map.client';

interface Asset {
  type: string;
  /** Loaded on first request: a hub that never shows a map never reads the files. */
  load(): Buffer;
}

interface Loaded {
  type: string;
  body: Buffer;
  etag: string;
}

function leafletFile(relative: string, type: string): Asset {
  return {
    type,
    load: () => readFileSync(path.join(path.dirname(require.resolve('leaflet/package.json')), 'dist', relative)),
  };
}

/*
 * Every file the site loads is listed here by name: the route takes no path from the request, so nothing outside
 * this list (node_modules, source maps, the file system) can be reached through it.
 */
const ASSETS: Readonly<Record<string, Asset>> = {
  'activity-map.js': { type: 'text/javascript', load: () => Buffer.from(ACTIVITY_MAP_JS, 'utf8') },
  'vendor/leaflet/leaflet.js': leafletFile('leaflet.js', 'text/javascript'),
  'vendor/leaflet/leaflet.css': leafletFile('leaflet.css', 'text/css'),
  'vendor/leaflet/images/layers.png': leafletFile('images/layers.png', 'image/png'),
  'vendor/leaflet/images/layers-2x.png': leafletFile('images/layers-2x.png', 'image/png'),
  'vendor/leaflet/images/marker-icon.png': leafletFile('images/marker-icon.png', 'image/png'),
  'vendor/leaflet/images/marker-icon-2x.png': leafletFile('images/marker-icon-2x.png', 'image/png'),
  'vendor/leaflet/images/marker-shadow.png': leafletFile('images/marker-shadow.png', 'image/png'),
};

/** Bundled browser assets (Leaflet from node_modules, the map script), served by the hub so it works offline. */
@ApiExcludeController()
@Controller('assets')
export class VendorAssetsController {
  private readonly cache = new Map<string, Loaded>();

  @Get('activity-map.js')
  mapScript(@Req() req: Request, @Res() res: Response): void {
    this.send('activity-map.js', req, res);
  }

  @Get('vendor/leaflet/:file')
  leaflet(@Param('file') file: string, @Req() req: Request, @Res() res: Response): void {
    this.send(`vendor/leaflet/${file}`, req, res);
  }

  @Get('vendor/leaflet/images/:file')
  leafletImage(@Param('file') file: string, @Req() req: Request, @Res() res: Response): void {
    this.send(`vendor/leaflet/images/${file}`, req, res);
  }

  private send(name: string, req: Request, res: Response): void {
    const asset = this.get(name);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (asset === undefined) {
      res.status(404).type('text/plain').send('Not found');
      return;
    }
    res.setHeader('ETag', asset.etag);
    res.setHeader('Cache-Control', 'public, max-age=86400');
    if (req.headers['if-none-match'] === asset.etag) {
      res.status(304).end();
      return;
    }
    res.type(asset.type).send(asset.body);
  }

  private get(name: string): Loaded | undefined {
    const cached = this.cache.get(name);
    if (cached !== undefined) return cached;
    if (!Object.prototype.hasOwnProperty.call(ASSETS, name)) return undefined;
    const asset = ASSETS[name]!;
    const body = asset.load();
    const loaded = {
      type: asset.type,
      body,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`,
    };
    this.cache.set(name, loaded);
    return loaded;
  }
}
