import { type INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { CSRF_HEADER } from '../auth/csrf.middleware';
import { SESSION_COOKIE } from '../auth/site-session.service';
import { CSRF_AUTH, SESSION_AUTH } from './api-error.dto';
import { OpenApiDocumentHolder } from './openapi-document.holder';

/** Only JSON endpoints are documented; pages, webhooks, probes and /metrics are not part of the API. */
export const API_PREFIX = '/api/';

/** The OpenAPI document of every route under /api, as the decorators describe it. */
export function buildOpenApiDocument(app: INestApplication, version = '0.1.0'): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Tributary API')
    .setDescription(
      'JSON API of the Tributary hub. Calls act as the signed-in user of the browser session (cookie ' +
        `\`${SESSION_COOKIE}\`); state-changing calls also need the session's CSRF token in \`${CSRF_HEADER}\` ` +
        '(the page has it in `<meta name="csrf-token">`).',
    )
    .setVersion(version)
    .addCookieAuth(SESSION_COOKIE, { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE }, SESSION_AUTH)
    .addApiKey({ type: 'apiKey', in: 'header', name: CSRF_HEADER }, CSRF_AUTH)
    .build();
  const document = SwaggerModule.createDocument(app, config);
  document.paths = Object.fromEntries(Object.entries(document.paths).filter(([path]) => path.startsWith(API_PREFIX)));
  return document;
}

/** Builds the document once the app's modules are known and hands it to the controller serving it. */
export function setupOpenApi(app: INestApplication, version?: string): OpenAPIObject {
  const document = buildOpenApiDocument(app, version);
  app.get(OpenApiDocumentHolder).document = document;
  return document;
}
