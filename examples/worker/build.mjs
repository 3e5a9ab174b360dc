#!/usr/bin/env node
/**
 * Bundle the Worker into one ES module plus its WebAssembly files:
 *
 *   node examples/worker/build.mjs [outdir]     (default examples/worker/dist)
 *
 * The `.wasm` imports of entries/workerd.ts stay imports (`./wasm/<file>`) and the files are copied
 * beside the bundle, where workerd/wrangler load them as compiled modules (CompiledWasm rule).
 */
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');

/** @param {string} outdir */
export async function buildWorker(outdir = join(here, 'dist')) {
  mkdirSync(join(outdir, 'wasm'), { recursive: true });
  const wasmDir = join(root, 'dist/wasm');
  // The built package's wasm folder holds every module of the WASM_MODULES table (npm run build), and
  // plugins/ the HEIC and AVIF plug-ins', which the worker imports too.
  for (const dir of [wasmDir, join(wasmDir, 'plugins')]) {
    for (const file of readdirSync(dir)) if (file.endsWith('.wasm')) copyFileSync(join(dir, file), join(outdir, 'wasm', file));
  }
  await build({
    entryPoints: [join(here, 'worker.ts')],
    outfile: join(outdir, 'worker.js'),
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    logLevel: 'warning',
    plugins: [{
      name: 'wasm-modules',
      setup(b) {
        b.onResolve({ filter: /\.wasm$/ }, (args) => ({ path: `./wasm/${basename(args.path)}`, external: true }));
      },
    }],
  });
  return { script: join(outdir, 'worker.js'), outdir };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { script } = await buildWorker(process.argv[2] ? resolve(process.argv[2]) : undefined);
  console.log(`built ${script}`);
}
