#!/usr/bin/env node
/**
 * `npm run build` (and so `npm start` and `npm test`): build only what changed since the last build,
 * and say what happened in one line instead of the bundler's ~80.
 *
 * - Each AssemblyScript project (`wasm/<name>/`) is rebuilt when its sources (everything in the folder
 *   but `build/`, the allocator every project imports from `wasm/common/`, plus the asc version)
 *   differ from the last build's. In a fresh checkout whose `wasm/<name>/` and `wasm/common/` git
 *   reports unmodified, the committed module is taken as built: it is what those
 *   sources give, byte for byte (test/kernels/build.test.ts checks it).
 * - `dist/` is rebuilt with tsup when any file that can reach the bundle changed (every file git
 *   tracks or would track, except tests, benchmarks, examples, CI and Markdown), or when `dist/`
 *   itself is not what the last build wrote.
 *
 * The hashes live in node_modules/.cache/imgpipe/build.json (never committed, gone with a fresh
 * install). `--force` rebuilds everything; `--verbose` shows asc's and tsup's own output. Output of a
 * failed step is always printed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWasmProject, wasmProjects } from './build-wasm.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const STAMP = join(root, 'node_modules/.cache/imgpipe/build.json');
/** What can never reach dist/: a change here rebuilds nothing. */
const NOT_INPUTS = /^(test|bench|examples|\.ci|dist|node_modules|out)\/|\.md$/;

/** AssemblyScript sources every project imports (the shared allocator): a change rebuilds them all. */
const SHARED_AS = 'wasm/common';

const force = process.argv.includes('--force');
const verbose = process.argv.includes('--verbose');

/** Files under `dir` (relative to the root), recursively, skipping dot-folders, node_modules and dist. */
function walk(dir) {
  const files = [];
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (!e.name.startsWith('.') && e.name !== 'node_modules' && e.name !== 'dist') files.push(...walk(path));
    } else if (e.isFile()) files.push(path);
  }
  return files;
}

/** The project's files as git sees them (tracked, and untracked but not ignored), or every file outside a git checkout. */
function projectFiles() {
  try {
    const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return out.split('\0').filter((f) => f && existsSync(join(root, f)));
  } catch {
    return walk('');
  }
}

function hashFiles(files, extra = '') {
  const h = createHash('sha256').update(extra);
  for (const f of [...files].sort()) h.update(`${f}\0`).update(readFileSync(join(root, f))).update('\0');
  return h.digest('hex');
}

/** True when git says `dir` has no change against HEAD (and nothing untracked); false outside git. */
function unmodifiedInGit(dir) {
  try {
    return execFileSync('git', ['status', '--porcelain', '--', dir], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }) === '';
  } catch {
    return false;
  }
}

function readStamp() {
  try {
    return JSON.parse(readFileSync(STAMP, 'utf8'));
  } catch {
    return { wasm: {}, dist: undefined };
  }
}

function fail(what, output) {
  process.stderr.write(`${output.trimEnd()}\nimgpipe build: ${what} failed\n`);
  process.exit(1);
}

const t0 = performance.now();
const stamp = readStamp();
const files = projectFiles();
const done = [];

// 1. AssemblyScript modules.
const ascVersion = JSON.parse(readFileSync(join(root, 'node_modules/assemblyscript/package.json'), 'utf8')).version;
for (const config of wasmProjects()) {
  const dir = dirname(config);
  const sources = files.filter((f) => (f.startsWith(`${dir}/`) && !f.startsWith(`${dir}/build/`)) || f.startsWith(`${SHARED_AS}/`));
  const hash = hashFiles(sources, `asc ${ascVersion}`);
  const built = stamp.wasm[dir] === hash || (stamp.wasm[dir] === undefined && !force && unmodifiedInGit(dir) && unmodifiedInGit(SHARED_AS));
  if (force || !built) {
    try {
      const output = buildWasmProject(config);
      if (verbose) process.stdout.write(output);
    } catch (e) {
      fail(`asc (${config})`, e.message);
    }
    done.push(dir);
  }
  stamp.wasm[dir] = hash;
}

// 2. The bundle. Inputs are hashed after step 1, so a rebuilt module counts as changed.
const inputs = hashFiles(projectFiles().filter((f) => !NOT_INPUTS.test(f)));
const outputs = () => (existsSync(join(root, 'dist')) ? hashFiles(walk('dist')) : 'none');
if (force || stamp.dist?.inputs !== inputs || stamp.dist?.outputs !== outputs()) {
  const tsup = spawnSync(process.execPath, [join(root, 'node_modules/tsup/dist/cli-default.js')], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const output = `${tsup.stdout ?? ''}${tsup.stderr ?? ''}`;
  if (tsup.status !== 0) fail('tsup', output);
  if (verbose) process.stdout.write(output);
  done.push('dist/');
  stamp.dist = { inputs, outputs: outputs() };
}

mkdirSync(dirname(STAMP), { recursive: true });
writeFileSync(STAMP, `${JSON.stringify(stamp, null, 2)}\n`);
const seconds = ((performance.now() - t0) / 1000).toFixed(1);
process.stdout.write(done.length === 0
  ? `imgpipe build: dist/ is up to date with the sources (checked in ${seconds} s; npm run build -- --force rebuilds)\n`
  : `imgpipe build: built ${done.join(' and ')} in ${seconds} s\n`);
