import Module from 'node:module';
import { join, resolve } from 'node:path';

/**
 * jest applies moduleNameMapper to test files but not to globalSetup/globalTeardown, which run in the parent process
 * with plain Node resolution. This maps `@tributary/<lib>` to libs/<lib>/src there (jest's own hook compiles the .ts).
 */
const root = resolve(__dirname, '..', '..', '..');
type Resolve = (request: string, ...rest: unknown[]) => string;
const mod = Module as unknown as { _resolveFilename: Resolve & { tributaryAliases?: true } };
if (!mod._resolveFilename.tributaryAliases) {
  const original = mod._resolveFilename;
  const patched: Resolve & { tributaryAliases?: true } = function (this: unknown, request, ...rest) {
    const match = /^@tributary\/([a-z-]+)$/.exec(request);
    const target = match ? join(root, 'libs', match[1] as string, 'src', 'index.ts') : request;
    return original.call(this, target, ...rest);
  };
  patched.tributaryAliases = true;
  mod._resolveFilename = patched;
}
