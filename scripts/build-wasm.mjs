#!/usr/bin/env node
/**
 * Build every imgpipe-owned WebAssembly module: each `wasm/<name>/asconfig.json` is an AssemblyScript
 * project whose `release` target writes `wasm/<name>/build/*.wasm`. The builds are committed (the
 * package works from a plain checkout) and test/kernels/build.test.ts checks they are reproduced
 * byte for byte, so adding a module is adding a folder: nothing to register here.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const asc = join(root, 'node_modules/.bin/asc');

/**
 * With `converge: true` (every project's release target) asc reruns Binaryen's optimiser until the
 * module stops shrinking, and says "Last converge was suboptimal." when the final round came out a
 * few bytes larger than the one before. It is information, not a warning: the output is still the
 * deterministic module the committed build is checked against.
 */
const CONVERGE_NOTE = /^Last converge was suboptimal\.\r?\n?/m;

export function wasmProjects() {
  return readdirSync(join(root, 'wasm'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, 'wasm', d.name, 'asconfig.json')))
    .map((d) => join('wasm', d.name, 'asconfig.json'))
    .sort();
}

/** Build one project's release target; asc's output is returned (without the converge note), and thrown with on failure. */
export function buildWasmProject(config) {
  const run = spawnSync(asc, ['--config', config, '--target', 'release'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}`.replace(CONVERGE_NOTE, '');
  if (run.status !== 0) throw new Error(`asc failed on ${config} (${run.error?.message ?? `exit ${run.status}`}):\n${output}`);
  return output;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const config of wasmProjects()) process.stdout.write(buildWasmProject(config));
}
