import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** The Swagger UI files the docs page loads, served from the installed swagger-ui-dist package (no CDN). */
const DIST_FILES: Readonly<Record<string, { file: string; type: string }>> = {
  'swagger-ui.css': { file: 'swagger-ui.css', type: 'text/css; charset=utf-8' },
  'swagger-ui-bundle.js': { file: 'swagger-ui-bundle.js', type: 'text/javascript; charset=utf-8' },
};

/** Our own start script: a same-origin file, since the CSP forbids inline scripts. */
const INIT_SCRIPT = `'use strict';
window.addEventListener('DOMContentLoaded', function () {
  window.ui = SwaggerUIBundle({
    url: '/api/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    // The default validator badge would load an image from validator.swagger.io.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
});
`;

export const DOCS_ASSETS: readonly string[] = [...Object.keys(DIST_FILES), 'docs-init.js'];

export interface DocsAsset {
  body: Buffer;
  type: string;
}

const cache = new Map<string, Promise<DocsAsset>>();

/** One of DOCS_ASSETS, read once and kept (the bundle is ~1.5 MB; reading it per request would be wasteful). */
export function docsAsset(name: string): Promise<DocsAsset> | undefined {
  if (name === 'docs-init.js') {
    return Promise.resolve({ body: Buffer.from(INIT_SCRIPT), type: 'text/javascript; charset=utf-8' });
  }
  const entry = DIST_FILES[name];
  if (entry === undefined) return undefined;
  let loaded = cache.get(name);
  if (loaded === undefined) {
    const dist = dirname(require.resolve('swagger-ui-dist/package.json'));
    loaded = readFile(join(dist, entry.file)).then((body) => ({ body, type: entry.type }));
    loaded.catch(() => cache.delete(name));
    cache.set(name, loaded);
  }
  return loaded;
}
