#!/usr/bin/env node
/**
 * Build imgpipe's PNG decoder module (`wasm/libspng/build/imgpipe_png.wasm`): libspng with zlib's
 * inflate and libdeflate's (for a photo's image data), from Debian 12's source packages, with Debian's Emscripten, libspng's SSE2/SSSE3 unfilter
 * paths on WebAssembly SIMD.
 *
 *   apt-get install -y emscripten            # Debian 12's emscripten 3.1.6
 *   npm run build:libspng                    # rebuild the committed module
 *   npm run build:libspng -- --check         # rebuild and fail unless it is byte-identical (CI)
 *
 * Like wasm/libwebp the build is committed (npm carries no C toolchain) and CI checks it is what
 * this script produces. The sources are Debian's `.orig` tarballs (libspng's, zlib's and libdeflate's
 * own release tarballs), pinned by SHA-256 and cached in `.cache/`; our patches to libspng are in
 * `wasm/libspng/patches/`, to libdeflate in `wasm/libspng/patches/libdeflate/` (wasm/libspng/README.md). Debian carries no patches for libspng; its
 * two zlib patches are about the build system and minizip, neither of which this build uses; its one
 * libdeflate patch is to ARM's CRC code, which this build does not compile.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkEmcc, compileAndLink, linkFlags, pinnedDownload, writeOrCheck } from './emscripten.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const POOL = 'http://deb.debian.org/debian/pool/main';
const CACHE = join(root, '.cache');
const SOURCES = {
  spng: { dir: 'libspng-0.7.3', file: 'libspng_0.7.3.orig.tar.gz', url: `${POOL}/libs/libspng/libspng_0.7.3.orig.tar.gz`, sha256: 'a50cadbe808ffda1a7fab17d145f52a23b163f34b3eb3696c7ecb5a52340fc1d' },
  libdeflate: { dir: 'libdeflate-1.14', file: 'libdeflate_1.14.orig.tar.gz', url: `${POOL}/libd/libdeflate/libdeflate_1.14.orig.tar.gz`, sha256: '89e7df898c37c3427b0f39aadcf733731321a278771d20fc553f92da8d4808ac' },
  zlib: { dir: 'zlib-1.2.13.dfsg', file: 'zlib_1.2.13.dfsg.orig.tar.bz2', url: `${POOL}/z/zlib/zlib_1.2.13.dfsg.orig.tar.bz2`, sha256: '71feb7947e3c00ef125f83b79a4e529bde31171e5babe48b391f06758d1ab0a1' },
};
const OUT = join(root, 'wasm/libspng/build/imgpipe_png.wasm');
const GLUE = join(root, 'wasm/libspng/png.c');
/** zlib's inflate and deflate (libspng links both) and the checksums they use. */
const ZLIB_FILES = ['adler32.c', 'compress.c', 'crc32.c', 'deflate.c', 'inffast.c', 'inflate.c', 'inftrees.c', 'trees.c', 'zutil.c'];
/** libdeflate's whole-buffer inflate (a photo's image data, see png.c) and the allocator it uses. */
const LIBDEFLATE_FILES = ['lib/deflate_decompress.c', 'lib/utils.c'];

const OPT = ['-O3', '-flto', '-DNDEBUG', '-msimd128', '-mbulk-memory', '-mnontrapping-fptoint'];
/**
 * libspng picks its SIMD unfilters by target architecture and turns them off for any it does not
 * know; WebAssembly is one. Its SSE paths only need the SSE2/SSSE3 intrinsics, which Emscripten's
 * headers translate to WASM SIMD, so spng.c alone is told it targets 32-bit x86 (as wasm32 is, in
 * pointer size) with SSSE3 (SPNG_SSE=3: the 3-byte-pixel paths need it). PngSuite's pixels, every
 * filter type at every bit depth, are tested against sharp's decode (test/core/png-chunks.test.ts).
 */
const SPNG_FLAGS = ['-D__i386__', '-DSPNG_SSE=3', '-mssse3', '-DSPNG_STATIC', '-Wno-everything'];
const LDFLAGS = linkFlags(['imgpipe_png_input', 'imgpipe_png_begin', 'imgpipe_png_whole', 'imgpipe_png_step', 'imgpipe_png_ring', 'imgpipe_png_rows_out', 'imgpipe_png_message', 'imgpipe_png_encode']);

/** Our own small changes to libspng's source (wasm/libspng/README.md), applied in name order. */
const PATCHES = join(root, 'wasm/libspng/patches');
/** And to libdeflate's (its 64-bit word on wasm32, see the README). */
const LIBDEFLATE_PATCHES = join(PATCHES, 'libdeflate');

/**
 * A pinned tarball, unpacked; with `patches`, unpacked afresh (so a folder left by an older build is
 * never used) and patched.
 */
async function source({ dir, file, url, sha256 }, patches) {
  const path = join(CACHE, dir);
  const tarball = await pinnedDownload('build-libspng', url, join(CACHE, file), sha256);
  if (patches) rmSync(path, { recursive: true, force: true });
  if (!existsSync(path)) execFileSync('tar', [file.endsWith('.bz2') ? 'xjf' : 'xzf', tarball, '-C', CACHE]);
  for (const patch of patches ? readdirSync(patches).filter((f) => f.endsWith('.patch')).sort() : []) {
    // git apply works outside a repository; the ceiling keeps it from finding imgpipe's own.
    execFileSync('git', ['apply', '-p1', join(patches, patch)], { cwd: path, env: { ...process.env, GIT_CEILING_DIRECTORIES: CACHE } });
  }
  return path;
}

async function build() {
  const spng = await source(SOURCES.spng, PATCHES);
  const zlib = await source(SOURCES.zlib);
  const libdeflate = await source(SOURCES.libdeflate, LIBDEFLATE_PATCHES);
  const objDir = join(CACHE, 'libspng-obj');
  rmSync(objDir, { recursive: true, force: true });
  mkdirSync(objDir, { recursive: true });
  // Paths relative to the project keep absolute checkout paths out of the objects.
  const rel = (p) => relative(root, p);
  const jobs = [
    ...ZLIB_FILES.map((f) => ({ file: join(zlib, f), flags: ['-Wno-everything'] })),
    ...LIBDEFLATE_FILES.map((f) => ({ file: join(libdeflate, f), flags: ['-Wno-everything', '-I', rel(libdeflate)] })),
    { file: join(spng, 'spng/spng.c'), flags: [...SPNG_FLAGS, '-I', rel(zlib)] },
    { file: GLUE, flags: ['-DSPNG_STATIC', '-I', rel(join(spng, 'spng')), '-I', rel(libdeflate)] },
  ];
  return compileAndLink(root, objDir, 'imgpipe_png.wasm', OPT, jobs, LDFLAGS);
}

checkEmcc('build-libspng');
writeOrCheck('build-libspng', root, OUT, await build(), 'npm run build:libspng');
