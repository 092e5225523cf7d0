import { Module } from '@nestjs/common';

/**
 * The sandbox is a Nest application whose simulators are plain express routers mounted on the underlying express
 * instance: each fake must control raw bodies, headers and status codes byte for byte, which Nest's pipes and
 * body parsers would get in the way of.
 */
@Module({})
export class SandboxModule {}
