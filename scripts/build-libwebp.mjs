#!/usr/bin/env node
/**
 * Build imgpipe's libwebp module (`wasm/libwebp/build/imgpipe_webp.wasm`) from Debian's libwebp
 * source with Debian's Emscripten, using libwebp's SSE2 code paths on WebAssembly SIMD.
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
const OUT = join(root, 'wasm/libwebp/build/imgpipe_webp.wasm');
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
const LDFLAGS = [...linkFlags(['imgpipe_webp_encode', 'imgpipe_webp_band_begin', 'imgpipe_webp_band_rows', 'imgpipe_webp_band_encode', 'imgpipe_webp_decode']), KEEP_LARGE_FUNCTIONS];

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

async function build(src) {
  const objDir = join(root, '.cache', `libwebp-${VERSION}-obj`);
  rmSync(objDir, { recursive: true, force: true });
  mkdirSync(objDir, { recursive: true });
  const files = [GLUE, ENC_SIMD, ...['src/enc', 'src/dsp', 'src/utils', 'src/dec', 'sharpyuv'].flatMap((d) =>
    readdirSync(join(src, d)).filter((f) => f.endsWith('.c')).sort().map((f) => join(src, d, f)))];
  const flags = ['-I', relative(root, src), '-I', relative(root, join(src, 'src'))];
  return compileAndLink(root, objDir, 'imgpipe_webp.wasm', CFLAGS, files.map((file) => ({ file, flags })), LDFLAGS);
}

checkEmcc('build-libwebp');
writeOrCheck('build-libwebp', root, OUT, await build(await source()), 'npm run build:libwebp');
