import { Module } from '@nestjs/common';
import { OpenApiController } from './openapi.controller';
import { OpenApiDocumentHolder } from './openapi-document.holder';

/** GET /api/openapi.json and /api/docs; the document itself is built by setupOpenApi (openapi.setup.ts). */
@Module({
  controllers: [OpenApiController],
  providers: [OpenApiDocumentHolder],
  exports: [OpenApiDocumentHolder],
})
export class OpenApiModule {}
