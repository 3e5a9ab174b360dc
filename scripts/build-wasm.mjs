#!/usr/bin/env node
/**
 * Build every imgpipe-owned WebAssembly module: each `wasm/<name>/asconfig.json` is an AssemblyScript
 * project whose `release` target writes `wasm/<name>/build/*.wasm`. The builds are committed (the
 * package works from a plain checkout) and test/kernels/build.test.ts checks they are reproduced
 * byte for byte, so adding a module is adding a folder: nothing to register here.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const asc = join(root, 'node_modules/.bin/asc');

export function wasmProjects() {
  return readdirSync(join(root, 'wasm'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, 'wasm', d.name, 'asconfig.json')))
    .map((d) => join('wasm', d.name, 'asconfig.json'))
    .sort();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const config of wasmProjects()) {
    execFileSync(asc, ['--config', config, '--target', 'release'], { cwd: root, stdio: 'inherit' });
  }
}
