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

/**
 * esbuild's options for a Worker bundle of `entry` (what this example and the packed-tarball
 * test build alike): one ES module for workerd's conditions, its `.wasm` imports left as imports of
 * `./wasm/<file>`; `onWasm` is told each WebAssembly file the bundle imports.
 * @param {{ entry: string, outfile: string, onWasm?: (file: string) => void, logLevel?: import('esbuild').LogLevel }} options
 * @returns {import('esbuild').BuildOptions}
 */
export function workerBundleOptions({ entry, outfile, onWasm = () => undefined, logLevel = 'warning' }) {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    logLevel,
    plugins: [{
      name: 'wasm-modules',
      setup(b) {
        b.onResolve({ filter: /\.wasm$/ }, (args) => {
          onWasm(join(args.resolveDir, args.path));
          return { path: `./wasm/${basename(args.path)}`, external: true };
        });
      },
    }],
  };
}

/** @param {string} outdir */
export async function buildWorker(outdir = join(here, 'dist')) {
  mkdirSync(join(outdir, 'wasm'), { recursive: true });
  const wasmDir = join(root, 'dist/wasm');
  // The built package's wasm folder holds every module of the WASM_MODULES table (npm run build), and
  // plugins/ the HEIC and AVIF plug-ins', which the worker imports too.
  for (const dir of [wasmDir, join(wasmDir, 'plugins')]) {
    for (const file of readdirSync(dir)) if (file.endsWith('.wasm')) copyFileSync(join(dir, file), join(outdir, 'wasm', file));
  }
  await build(workerBundleOptions({ entry: join(here, 'worker.ts'), outfile: join(outdir, 'worker.js') }));
  return { script: join(outdir, 'worker.js'), outdir };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { script } = await buildWorker(process.argv[2] ? resolve(process.argv[2]) : undefined);
  console.log(`built ${script}`);
}
