// Compiles the CLI into dist/ (run by `npm run build`, and by `prepare`, which `npm ci` runs): one ES module bundle
// per entry, split into chunks that load on first use (the engine is not loaded for --help, the emulator only for
// `oms-janitor emulator`). bin/oms-janitor.js runs it, so a start costs no TypeScript compilation.
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);
const plugins = require('./esbuild-plugins.cjs');

await build({
  entryPoints: { 'oms-janitor': 'bin/main.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // The AWS SDK is loaded from node_modules on the first secret read only (lib/auth/secret-source.ts).
  external: ['@aws-sdk/*'],
  // Bundled CommonJS dependencies may call require(); give the ES module one.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  plugins,
  minify: true,
  keepNames: true, // error class names (PolicyError, InputError) are part of what the CLI reports
  sourcemap: false,
  logLevel: 'warning',
});
