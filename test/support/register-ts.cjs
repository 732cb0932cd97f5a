// Lets a child process of the tests run the TypeScript sources without a build: `node -r
// ./test/support/register-ts.cjs file.cjs`. .ts files are compiled on require with SWC, emitting
// the decorator metadata Nest's constructor injection needs (which tsx/esbuild cannot), and
// `@troupe/<lib>` resolves to libs/<lib>/src/index.ts as in tsconfig.json.
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
const swc = require('@swc/core');

const root = path.resolve(__dirname, '../..');
const options = (filename) => ({
  filename,
  sourceMaps: 'inline',
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
  },
  module: { type: 'commonjs' },
});

require.extensions['.ts'] = (module, filename) => {
  const { code } = swc.transformSync(fs.readFileSync(filename, 'utf8'), options(filename));
  module._compile(code, filename);
};

const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  const m = /^@troupe\/([a-z-]+)$/.exec(request);
  if (m) request = path.join(root, 'libs', m[1], 'src', 'index.ts');
  return resolve.call(this, request, parent, ...rest);
};
