import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiExcludeController, type OpenAPIObject } from '@nestjs/swagger';
import type { Response } from 'express';
import { NotFoundError, UnavailableError } from '@tributary/common';
import { html } from '../site/html.util';
import { pageHeaders } from '../site/page.util';
import { OpenApiDocumentHolder } from './openapi-document.holder';
import { docsAsset } from './swagger-ui.assets';

/** The OpenAPI document and a Swagger UI page to browse it, all served by the hub itself. */
@ApiExcludeController()
@Controller('api')
export class OpenApiController {
  constructor(private readonly holder: OpenApiDocumentHolder) {}

  @Get('openapi.json')
  document(): OpenAPIObject {
    if (this.holder.document === undefined) {
      throw new UnavailableError('openapi', 'the API document is not built (setupOpenApi was not called)');
    }
    return this.holder.document;
  }

  @Get('docs')
  page(@Res() res: Response): void {
    pageHeaders(res);
    res
      .status(200)
      .type('html')
      .send(
        html`<!doctype html>
          <html lang="en">
            <head>
              <meta charset="utf-8" />
              <meta name="viewport" content="width=device-width, initial-scale=1" />
              <title>Tributary API</title>
              <link rel="stylesheet" href="/api/docs/swagger-ui.css" />
            </head>
            <body>
              <noscript
                ><p>The API document itself: <a href="/api/openapi.json">/api/openapi.json</a></p></noscript
              >
              <div id="swagger-ui"></div>
              <script src="/api/docs/swagger-ui-bundle.js"></script>
              <script src="/api/docs/docs-init.js"></script>
            </body>
          </html>`.toString(),
      );
  }

  @Get('docs/:asset')
  async asset(@Param('asset') name: string, @Res() res: Response): Promise<void> {
    const asset = docsAsset(name);
    if (asset === undefined) throw new NotFoundError('docs asset', name);
    const { body, type } = await asset;
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.status(200).type(type).send(body);
  }
}
