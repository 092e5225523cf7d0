import { Injectable } from '@nestjs/common';
import { type OpenAPIObject } from '@nestjs/swagger';

/**
 * The generated document. Generating needs the whole application (every module's controllers), which exists only
 * after the module graph is built, so main.ts fills this in (setupOpenApi) right after creating the app.
 */
@Injectable()
export class OpenApiDocumentHolder {
  document?: OpenAPIObject;
}
