#!/usr/bin/env node
/**
 * Build imgpipe's colour management module (`wasm/lcms2/build/imgpipe_lcms2.wasm`): Little CMS,
 * from Debian 12's source package (upstream tarball plus Debian's patches, the security fix among
 * them), with Debian's Emscripten. It converts the embedded ICC profiles imgpipe's own matrix/TRC
 * code can't (LUT-based RGB, CMYK) to sRGB; see wasm/lcms2/README.md.
 *
 *   apt-get install -y emscripten            # Debian 12's emscripten 3.1.6
 *   npm run build:lcms2                      # rebuild the committed module
 *   npm run build:lcms2 -- --check           # rebuild and fail unless it is byte-identical (CI)
 *
 * Like wasm/libspng the build is committed (npm carries no C toolchain) and CI checks it is what
 * this script produces. Every downloaded file is pinned by SHA-256 and cached in `.cache/`.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkEmcc, compileAndLink, linkFlags, unpackDebianSource, writeOrCheck } from './emscripten.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const POOL = 'http://deb.debian.org/debian/pool/main';
const CACHE = join(root, '.cache/lcms2');
/** Debian 12's source package: the upstream tarball and Debian's patches (`debian/patches/series`). */
const PACKAGE = {
  dir: 'lcms2-2.14',
  orig: { file: 'lcms2_2.14.orig.tar.gz', url: `${POOL}/l/lcms2/lcms2_2.14.orig.tar.gz`, sha256: '28474ea6f6591c4d4cee972123587001a4e6e353412a41b3e9e82219818d5740' },
  debian: { file: 'lcms2_2.14-2+deb12u1.debian.tar.xz', url: `${POOL}/l/lcms2/lcms2_2.14-2%2Bdeb12u1.debian.tar.xz`, sha256: '3b88006a5ccc15f3d4b2f28310875a8c4d789ac8342deaf4113ed5c2fd4a59e8' },
};
const OUT = join(root, 'wasm/lcms2/build/imgpipe_lcms2.wasm');
const GLUE = join(root, 'wasm/lcms2/lcms.c');
/** Takes files and the clock out of the two sources that name them (see the file). */
const NOFILES = join(root, 'wasm/lcms2/nofiles.h');
const NOFILES_SOURCES = new Set(['cmsio0.c', 'cmsplugin.c']);
const UNUSED_SOURCES = new Set(['cmsps2.c', 'cmscgats.c']);

const OPT = ['-O3', '-flto', '-DNDEBUG', '-mbulk-memory', '-mnontrapping-fptoint'];
/** No threads in a standalone module: lcms's default mutexes are pthread's unless told otherwise. */
const LCMS_FLAGS = ['-DCMS_NO_PTHREADS=1', '-Wno-everything'];
const LDFLAGS = linkFlags(['imgpipe_lcms_prepare', 'imgpipe_lcms_apply', 'imgpipe_lcms_message']);

async function build() {
  mkdirSync(CACHE, { recursive: true });
  const lcms = await unpackDebianSource('build-lcms2', CACHE, PACKAGE);
  const objDir = join(CACHE, 'obj');
  rmSync(objDir, { recursive: true, force: true });
  mkdirSync(objDir, { recursive: true });
  // Paths relative to the project keep absolute checkout paths out of the objects.
  const include = ['-I', relative(root, join(lcms, 'include'))];
  // The library's own sources (src/*.c, as its Makefile.am lists them) but the two that only serve
  // APIs imgpipe never calls: PostScript output (cmsps2.c) and CGATS/IT8 files (cmscgats.c); no plug-ins.
  const files = readdirSync(join(lcms, 'src')).filter((f) => f.endsWith('.c') && !UNUSED_SOURCES.has(f)).sort();
  const jobs = [
    ...files.map((f) => ({ file: join(lcms, 'src', f), flags: [...LCMS_FLAGS, ...include, ...(NOFILES_SOURCES.has(f) ? ['-include', relative(root, NOFILES)] : [])] })),
    { file: GLUE, flags: [...LCMS_FLAGS, ...include] },
  ];
  return compileAndLink(root, objDir, 'imgpipe_lcms2.wasm', OPT, jobs, LDFLAGS);
}

checkEmcc('build-lcms2');
writeOrCheck('build-lcms2', root, OUT, await build(), 'npm run build:lcms2');
