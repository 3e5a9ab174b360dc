/**
 * Node.js entry (Function Compute nodejs18/nodejs20, CLI, tests): the whole public API, with a
 * WASM provider that reads the package's own `.wasm` files from disk. No bundler and no path
 * configuration needed: the files sit in `dist/wasm/` beside this module once built, and in the
 * dependencies (or `wasm/kernels/build/`) when running from source.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { nodeWasmRow, setWasmProvider, WASM_MODULES, type WasmName } from '../src/wasm/modules.js';
import './node-crc.js';
import './node-webp-helper.js';

export * from '../src/index.js';
export { createWorkerPool, MAX_POOL_THREADS, type WorkerPool, type WorkerPoolOptions, type WorkerPoolStats } from '../pool/index.js';
// A single-file bundle (the Function Compute example) is its own pool worker: started as one, it calls this.
export { serveEncodes } from '../pool/serve.js';

const here = import.meta.url;

/**
 * Where the module's bytes are: beside the bundle first, then the source-tree location, then a
 * package of its own, `imgpipe-<name>`: a Function Compute layer carrying a module the function
 * leaves out (Little CMS, see scripts/build-fc.mjs).
 */
export function locateWasm(name: WasmName): string {
  // Node's own build of a module (libwebp's threaded one) when it is there, else the one every runtime loads.
  const own = nodeWasmRow(name);
  if (own !== WASM_MODULES[name]) {
    const path = find(own);
    if (existsSync(path)) return path;
  }
  return find(WASM_MODULES[name] as { file: string; from: string }, name);
}

function find(row: { file: string; from: string }, name?: WasmName): string {
  const bundled = fileURLToPath(new URL(`./wasm/${row.file}`, here));
  if (existsSync(bundled)) return bundled;
  if (!row.from.startsWith('./')) return createRequire(here).resolve(row.from);
  const source = fileURLToPath(new URL(`../${row.from.slice(2)}`, here));
  if (existsSync(source)) return source;
  if (name === undefined) return source;
  try {
    return createRequire(here).resolve(`imgpipe-${name}/${row.file}`);
  } catch {
    // Not deployed: reading the source path fails, and the module's user does without it.
    return source;
  }
}

setWasmProvider(async (name) => readFile(locateWasm(name)));
