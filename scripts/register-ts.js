'use strict';
// Lets `node --require ./scripts/register-ts.js file.ts` run TypeScript benches and scripts without a build:
// compiles .ts with SWC on load and resolves @tributary/<lib> to libs/<lib>/src, as jest and the Nest build do.
const path = require('node:path');
const fs = require('node:fs');
const Module = require('node:module');
const { transformSync } = require('@swc/core');

const root = path.resolve(__dirname, '..');

const originalResolve = Module._resolveFilename;
Module._resolveFilename = function resolveTributary(request, parent, isMain, options) {
  const match = /^@tributary\/([a-z-]+)$/.exec(request);
  if (match) request = path.join(root, 'libs', match[1], 'src', 'index.ts');
  return originalResolve.call(this, request, parent, isMain, options);
};

require.extensions['.ts'] = function compileTs(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const { code } = transformSync(source, {
    filename,
    sourceMaps: 'inline',
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
