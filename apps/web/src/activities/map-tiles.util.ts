import { type Response } from 'express';

/**
 * The CSP source for a Leaflet tile URL template ("https://{s}.tile.example.org/{z}/{x}/{y}.png" →
 * "https://*.tile.example.org"), or undefined when the template has no usable http(s) origin.
 */
export function tileCspSource(template: string): string | undefined {
  const m = /^(https?):\/\/([^/?#]+)/i.exec(template);
  if (m === null) return undefined;
  const host = m[2]!.toLowerCase().replace(/\{[a-z]\}/g, '*');
  if (!/^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:\d{1,5})?$/.test(host)) return undefined;
  return `${m[1]!.toLowerCase()}://${host}`;
}

/**
 * Widens the page's img-src to the tile server, on the map page only; every other directive stays 'self'. Call after
 * pageHeaders() has set the site's policy.
 */
export function allowTileImages(res: Response, template: string | undefined): void {
  const source = template === undefined ? undefined : tileCspSource(template);
  const csp = res.getHeader('Content-Security-Policy');
  if (source === undefined || typeof csp !== 'string') return;
  res.setHeader('Content-Security-Policy', csp.replace(/img-src ([^;]*)/, `img-src $1 ${source}`));
}
