import { mkdtemp, mkdir } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { parse } from 'yaml';
import { ROOT } from './sandbox.js';

/**
 * The Lambda handler bundled exactly as serverless.yml's `custom.esbuild` says (its options read from the file, not
 * repeated here), in a fraction of the time `serverless package` takes: for tests and benchmarks that need the built
 * handler but not the zip. Returns a task root laid out like /var/task (functions/purge.cjs).
 */
export async function buildHandlerBundle(): Promise<string> {
  const service = parse(readFileSync(join(ROOT, 'serverless.yml'), 'utf8'), { logLevel: 'silent' }) as {
    custom: { esbuild: Record<string, unknown> };
  };
  const o = service.custom.esbuild;
  const require = createRequire(join(ROOT, 'package.json'));
  const plugins = o.plugins ? (require(join(ROOT, String(o.plugins))) as Plugin[]) : [];
  const taskRoot = await mkdtemp(join(tmpdir(), 'oms-janitor-task-'));
  await mkdir(join(taskRoot, 'functions'));
  const options: BuildOptions = {
    entryPoints: [join(ROOT, 'functions', 'purge.ts')],
    outfile: join(taskRoot, 'functions', `purge${String(o.outputFileExtension ?? '.js')}`),
    bundle: o.bundle === true,
    minify: o.minify === true,
    keepNames: o.keepNames === true,
    sourcemap: o.sourcemap === true,
    target: String(o.target),
    platform: o.platform as BuildOptions['platform'],
    format: o.format as BuildOptions['format'],
    external: (o.exclude as string[] | undefined) ?? [],
    supported: (o.supported as Record<string, boolean> | undefined) ?? {},
    plugins,
    logLevel: 'warning',
  };
  await build(options);
  return taskRoot;
}
