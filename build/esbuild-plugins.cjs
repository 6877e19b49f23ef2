'use strict';
/**
 * esbuild plugins for the Lambda bundle, loaded by serverless-esbuild (`custom.esbuild.plugins` in serverless.yml:
 * a path, relative to the service, to a CommonJS module that exports the array of plugins).
 *
 * zodEnglishOnly: zod v4 re-exports every one of its ~50 locales (`z.locales`, `z.core.locales`), and because we use
 * the `z` namespace object, esbuild cannot drop them: ~265 KB of the ~690 KB bundle that the runtime parses at every
 * cold start (~20-30 ms of the import time, bench/bundle-size.ts) and that nothing here ever runs. Our messages come
 * from zod's default English locale, which zod imports directly (`classic/schemas.js` -> `locales/en.js`) and which
 * is therefore unaffected. The plugin replaces zod's locale index with one that exports `en` only: `z.locales.en`
 * still works, `z.locales.fr` would be undefined (nothing in lib/ uses z.locales; `z.config(z.locales.xx())` would be
 * the place that breaks if someone ever wants another language — remove the plugin then).
 */

const { dirname, join } = require('node:path');

const ZOD_LOCALE_INDEX = /^\.\.\/locales\/index\.js$/; // how zod/v4/{core,classic,mini} import the index
const NAMESPACE = 'zod-english-only';

/** @type {import('esbuild').Plugin} */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({ filter: ZOD_LOCALE_INDEX }, (args) => {
      if (!/[\\/]node_modules[\\/]zod[\\/]v4[\\/]/.test(args.importer)) return undefined;
      return { path: join(args.resolveDir, '..', 'locales', 'en.js'), namespace: NAMESPACE };
    });
    build.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      resolveDir: dirname(args.path),
    }));
  },
};

module.exports = [zodEnglishOnly];
