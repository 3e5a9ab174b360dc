#!/usr/bin/env node
/**
 * Build imgpipe's libwebp modules (`wasm/libwebp/build/imgpipe_webp.wasm`, and its threaded twin
 * `imgpipe_webp_threads.wasm` for Node) from Debian's libwebp source with Debian's Emscripten, using
 * libwebp's SSE2 code paths on WebAssembly SIMD.
 *
 *   apt-get install -y emscripten            # Debian 12's emscripten 3.1.6
 *   npm run build:libwebp                    # rebuild the committed module
 *   npm run build:libwebp -- --check         # rebuild and fail unless it is byte-identical (CI)
 *
 * Unlike the AssemblyScript modules this one needs a toolchain npm does not carry, so the build is
 * committed and `npm install` never runs it; CI installs Emscripten and checks the committed file is
 * what this script produces. The source tarball is Debian's `.orig.tar.gz` (libwebp's own release
 * tarball), pinned by SHA-256, and cached in `.cache/`; our patches in `wasm/libwebp/patches/` are
 * applied to it before the build (see wasm/libwebp/README.md).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KEEP_LARGE_FUNCTIONS, checkEmcc, compileAndLink, linkFlags, pinnedDownload, writeOrCheck } from './emscripten.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const VERSION = '1.5.0';
const TARBALL = `libwebp_${VERSION}.orig.tar.gz`;
const URL_ = `http://deb.debian.org/debian/pool/main/libw/libwebp/${TARBALL}`;
const SHA256 = '7d6fab70cf844bf6769077bd5d7a74893f8ffd4dfb42861745750c63c2a5c92c';
const OUT_DIR = join(root, 'wasm/libwebp/build');
const GLUE = join(root, 'wasm/libwebp/webp.c');
// The lossy encoder's loops on WASM SIMD, installed by webp.c into libwebp's encoder tables.
const ENC_SIMD = join(root, 'wasm/libwebp/enc_simd.c');

const CFLAGS = [
  '-O3',
  '-flto',
  '-DNDEBUG',
  // libwebp's SSE2 paths, translated to WASM SIMD by Emscripten's headers; WEBP_HAVE_SSE2 makes
  // libwebp's Emscripten CPU check report SSE2 (src/dsp/cpu.c). SSE4.1 paths measured no faster.
  '-msimd128',
  '-msse2',
  '-DWEBP_HAVE_SSE2',
  '-mbulk-memory',
  '-mnontrapping-fptoint',
  // Decode to RGBA only (drops the other colour spaces' converters), and no encoder statistics.
  '-DWEBP_REDUCE_CSP',
  '-DWEBP_DISABLE_STATS',
];
const EXPORTS = ['imgpipe_webp_encode', 'imgpipe_webp_band_begin', 'imgpipe_webp_band_rows', 'imgpipe_webp_band_encode', 'imgpipe_webp_decode'];
const LDFLAGS = [...linkFlags(EXPORTS), KEEP_LARGE_FUNCTIONS];

/**
 * The two modules, from the same sources. The threaded one (Node only: browsers without
 * cross-origin isolation and workerd have no shared memory) decodes lossy files on two threads as
 * sharp's libwebp does (webp.c, IMGPIPE_WEBP_THREADS): its memory is imported and shared, so that a
 * helper thread's second instance works on the same heap (wasm-ld makes the data segments passive,
 * initialised once by the first instance). Emscripten's libc is linked single-threaded
 * (`--no-check-features` lets its objects, built without atomics, into a shared-memory module): only
 * the calling thread ever allocates, and `stackRestore` gives the helper's instance its own stack.
 */
const VARIANTS = [
  { out: 'imgpipe_webp.wasm', cflags: [], ldflags: LDFLAGS },
  {
    out: 'imgpipe_webp_threads.wasm',
    cflags: ['-matomics', '-DWEBP_USE_THREAD', '-DIMGPIPE_WEBP_THREADS'],
    ldflags: [...linkFlags([...EXPORTS, 'imgpipe_webp_thread_run']),
      KEEP_LARGE_FUNCTIONS, '-sIMPORTED_MEMORY', '-Wl,--shared-memory', '-Wl,--no-check-features',
      // The two helper calls are imports (webp.c's imgpipe_thread_*), given by src/codecs/webp-threads.ts.
      '-sERROR_ON_UNDEFINED_SYMBOLS=0'],
  },
];

/** Our own small changes to libwebp's source (wasm/libwebp/README.md), applied in name order. */
const PATCHES = join(root, 'wasm/libwebp/patches');

/** The pinned tarball unpacked afresh (so a folder left by an older build is never used), then our patches. */
async function source() {
  const cache = join(root, '.cache');
  const dir = join(cache, `libwebp-${VERSION}`);
  rmSync(dir, { recursive: true, force: true });
  const tarball = await pinnedDownload('build-libwebp', URL_, join(cache, TARBALL), SHA256);
  execFileSync('tar', ['xzf', tarball, '-C', cache]);
  for (const patch of readdirSync(PATCHES).filter((f) => f.endsWith('.patch')).sort()) {
    // git apply works outside a repository; the ceiling keeps it from finding imgpipe's own.
    execFileSync('git', ['apply', '-p1', join(PATCHES, patch)], { cwd: dir, env: { ...process.env, GIT_CEILING_DIRECTORIES: cache } });
  }
  return dir;
}

async function build(src, variant) {
  const objDir = join(root, '.cache', `libwebp-${VERSION}-obj-${variant.out}`);
  rmSync(objDir, { recursive: true, force: true });
  mkdirSync(objDir, { recursive: true });
  const files = [GLUE, ENC_SIMD, ...['src/enc', 'src/dsp', 'src/utils', 'src/dec', 'sharpyuv'].flatMap((d) =>
    readdirSync(join(src, d)).filter((f) => f.endsWith('.c')).sort().map((f) => join(src, d, f)))];
  const flags = ['-I', relative(root, src), '-I', relative(root, join(src, 'src'))];
  return compileAndLink(root, objDir, variant.out, [...CFLAGS, ...variant.cflags], files.map((file) => ({ file, flags })), variant.ldflags);
}

checkEmcc('build-libwebp');
const src = await source();
for (const variant of VARIANTS) {
  writeOrCheck('build-libwebp', root, join(OUT_DIR, variant.out), await build(src, variant), 'npm run build:libwebp');
}
