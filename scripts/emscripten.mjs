/**
 * What imgpipe's C builds share (scripts/build-libwebp.mjs, scripts/build-libheif.mjs): Debian's
 * Emscripten at the version the committed modules come from, source tarballs pinned by SHA-256,
 * and writing a module or checking the committed one is reproduced byte for byte (`--check`, CI).
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';

/**
 * emcc's link flags for our C modules: a plain module with no JavaScript glue (its only import is
 * Emscripten's memory-growth notice, see src/wasm/instance.ts) exporting `functions`, the
 * output-buffer protocol's (OutputBufferExports there) and the module's own.
 */
export function linkFlags(functions) {
  return [
    '--no-entry',
    '-sSTANDALONE_WASM',
    '-sALLOW_MEMORY_GROWTH',
    '-sMAXIMUM_MEMORY=4GB',
    '-sFILESYSTEM=0',
    '-sEXPORTED_FUNCTIONS=' + ['imgpipe_alloc', 'imgpipe_free', 'imgpipe_release', 'imgpipe_output', 'imgpipe_output_size',
      'imgpipe_output_width', 'imgpipe_output_height', ...functions].map((f) => '_' + f).join(','),
  ];
}

/**
 * Binaryen inlines every function that has a single caller, whatever its size, and in a C library that
 * makes giant functions of code called once (libwebp's whole lossy encoder became one 46 KB function,
 * libheif's image decode 111 KB). V8's optimising compiler takes scratch memory in proportion to the
 * function it compiles, and compiling those was the peak of the process: a WebP encode ~8 MiB, an HEIC
 * upload ~35 MiB above what it needs now. Larger functions with one caller stay functions of their own
 * (called once a phase or a tile, the call costs nothing). Measured in wasm/libwebp/README.md and
 * wasm/libheif/README.md.
 */
export const KEEP_LARGE_FUNCTIONS = '-sBINARYEN_EXTRA_PASSES=--one-caller-inline-max-function-size=1000';

/** Emscripten's output depends on its version: the committed files come from Debian 12's. */
export const EMCC_VERSION = '3.1.6';

export function fail(script, message) {
  console.error(`${script}: ${message}`);
  process.exit(1);
}

export function checkEmcc(script) {
  let version = '';
  try {
    version = execFileSync('emcc', ['--version'], { encoding: 'utf8' }).split('\n')[0];
  } catch {
    fail(script, 'emcc not found: install Debian\'s Emscripten (apt-get install -y emscripten)');
  }
  if (!version.includes(` ${EMCC_VERSION} `)) fail(script, `expected Emscripten ${EMCC_VERSION} (Debian 12's) but found: ${version}`);
}

/** `url` saved at `path` (kept as a cache), refused unless its SHA-256 is `sha256`. */
export async function pinnedDownload(script, url, path, sha256) {
  if (!existsSync(path)) {
    console.log(`fetching ${url}`);
    const res = await fetch(url);
    if (!res.ok) fail(script, `${url} answered HTTP ${res.status}`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, Buffer.from(await res.arrayBuffer()));
  }
  const sum = createHash('sha256').update(readFileSync(path)).digest('hex');
  if (sum !== sha256) {
    rmSync(path);
    fail(script, `${path} has SHA-256 ${sum}, expected ${sha256}`);
  }
  return path;
}

/**
 * A Debian source package (`{ dir, orig, debian }`, each download `{ file, url, sha256 }`) unpacked
 * afresh into `cache`: the upstream tarball, then Debian's patches applied in their series order.
 * Returns the source folder.
 */
export async function unpackDebianSource(script, cache, { dir, orig, debian }) {
  const path = join(cache, dir);
  rmSync(path, { recursive: true, force: true });
  const origFile = await pinnedDownload(script, orig.url, join(cache, orig.file), orig.sha256);
  const debianFile = await pinnedDownload(script, debian.url, join(cache, debian.file), debian.sha256);
  execFileSync('tar', ['xzf', origFile, '-C', cache]);
  execFileSync('tar', ['xJf', debianFile, '-C', path]);
  const series = readFileSync(join(path, 'debian/patches/series'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  for (const patch of series) {
    // git apply works outside a repository; the ceiling keeps it from finding imgpipe's own.
    execFileSync('git', ['apply', '-p1', join('debian/patches', patch)], { cwd: path, env: { ...process.env, GIT_CEILING_DIRECTORIES: cache } });
  }
  return path;
}

/** With `--check`: fail unless `out` holds exactly `built`; otherwise write it. */
export function writeOrCheck(script, root, out, built, rebuild) {
  if (process.argv.includes('--check')) {
    const committed = existsSync(out) ? readFileSync(out) : Buffer.alloc(0);
    if (!committed.equals(built)) fail(script, `${relative(root, out)} differs from what this script builds (${committed.length} vs ${built.length} bytes): run ${rebuild} and commit the result`);
    console.log(`${relative(root, out)} is reproduced byte for byte (${built.length} bytes)`);
  } else {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, built);
    console.log(`wrote ${relative(root, out)} (${built.length} bytes)`);
  }
}

/**
 * Compiles each job's file (`{ file, flags }`) to `<objDir>/<index>.o`, one emcc per core at a time, then
 * links the objects in job order with `ldflags` into `<objDir>/<name>` and returns the module's bytes.
 * emcc runs in `root` and gets the files relative to it, which keeps absolute checkout paths out of the
 * objects (the modules are reproduced byte for byte from any checkout).
 */
export async function compileAndLink(root, objDir, name, cflags, jobs, ldflags) {
  const objs = jobs.map((_, i) => join(objDir, `${i}.o`));
  const run = promisify(execFile);
  const queue = jobs.map((job, i) => ({ ...job, obj: objs[i] }));
  await Promise.all(Array.from({ length: availableParallelism() }, async () => {
    for (let job; (job = queue.shift());) {
      await run('emcc', [...cflags, ...job.flags, '-c', relative(root, job.file), '-o', job.obj], { cwd: root });
    }
  }));
  const out = join(objDir, name);
  execFileSync('emcc', [...cflags, ...objs, ...ldflags, '-o', out], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  return readFileSync(out);
}
