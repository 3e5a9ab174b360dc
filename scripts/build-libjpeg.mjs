#!/usr/bin/env node
/**
 * Build imgpipe's fallback JPEG decoder module (`wasm/libjpeg/build/imgpipe_libjpeg.wasm`):
 * libjpeg-turbo's decompressor with arithmetic decoding, from Debian 12's source package, with
 * Debian's Emscripten. It decodes the coding processes imgpipe's own decoder leaves out
 * (arithmetic-coded sequential and progressive); baseline and progressive Huffman files never load it.
 *
 *   apt-get install -y emscripten            # Debian 12's emscripten 3.1.6
 *   npm run build:libjpeg                    # rebuild the committed module
 *   npm run build:libjpeg -- --check         # rebuild and fail unless it is byte-identical (CI)
 *
 * Like wasm/libspng the build is committed (npm carries no C toolchain) and CI checks it is what this
 * script produces. The source is Debian's `.orig` tarball (libjpeg-turbo's release tarball), pinned
 * by SHA-256 and cached in `.cache/`. Of Debian's four patches, three touch only the build system and
 * the manual pages; the fourth initialises the SIMD dispatch, and this build has no SIMD.
 *
 * Debian 12's libjpeg-turbo is 2.1.5: it decodes arithmetic coding, but not lossless JPEG (SOF3,
 * libjpeg-turbo 3.0) and 12-bit samples only in a build of its own that then reads nothing else, so
 * both stay refused by name (sharp, whose libjpeg is of the same line, refuses them too).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkEmcc, compileAndLink, linkFlags, pinnedDownload, writeOrCheck } from './emscripten.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const POOL = 'http://deb.debian.org/debian/pool/main';
const CACHE = join(root, '.cache');
const SOURCE = {
  dir: 'libjpeg-turbo-2.1.5',
  file: 'libjpeg-turbo_2.1.5.orig.tar.gz',
  url: `${POOL}/libj/libjpeg-turbo/libjpeg-turbo_2.1.5.orig.tar.gz`,
  sha256: '254f3642b04e309fee775123133c6464181addc150499561020312ec61c1bf7c',
};
const OUT = join(root, 'wasm/libjpeg/build/imgpipe_libjpeg.wasm');
const GLUE = join(root, 'wasm/libjpeg/jpeg.c');
/** Deletes jerror.c's print to stderr (see the file): the module then imports no WASI functions. */
const QUIET = join(root, 'wasm/libjpeg/quiet.h');
/** libjpeg-turbo's decompressor (CMakeLists.txt's JPEG_SOURCES less the compressor), arithmetic decoding, no SIMD. */
const FILES = [
  'jaricom.c', 'jcomapi.c', 'jdapimin.c', 'jdapistd.c', 'jdarith.c', 'jdatasrc.c', 'jdcoefct.c', 'jdcolor.c',
  'jddctmgr.c', 'jdhuff.c', 'jdinput.c', 'jdmainct.c', 'jdmarker.c', 'jdmaster.c', 'jdmerge.c', 'jdphuff.c',
  'jdpostct.c', 'jdsample.c', 'jerror.c', 'jidctflt.c', 'jidctfst.c', 'jidctint.c', 'jidctred.c', 'jquant1.c',
  'jquant2.c', 'jutils.c', 'jmemmgr.c', 'jmemnobs.c', 'jsimd_none.c',
];
/**
 * CMake's configured headers, as Debian's build configures them (libjpeg 6.2 API, in-memory source,
 * 8-bit samples) but with arithmetic decoding only and no SIMD.
 */
const CONFIG = {
  JPEG_LIB_VERSION: '62',
  VERSION: '2.1.5',
  LIBJPEG_TURBO_VERSION_NUMBER: '2001005',
  BITS_IN_JSAMPLE: '8',
  BUILD: '20230128',
  INLINE: '__inline__ __attribute__((always_inline))',
  THREAD_LOCAL: '__thread',
  CMAKE_PROJECT_NAME: 'libjpeg-turbo',
  SIZE_T: '4',
  COPYRIGHT_YEAR: '1991-2023',
};
const DEFINED = new Set(['D_ARITH_CODING_SUPPORTED', 'MEM_SRCDST_SUPPORTED', 'HAVE_BUILTIN_CTZL']);

const OPT = ['-O3', '-flto', '-DNDEBUG', '-mbulk-memory', '-mnontrapping-fptoint'];
const LDFLAGS = linkFlags(['imgpipe_jpeg_decode', 'imgpipe_jpeg_messages', 'imgpipe_jpeg_warnings']);

/** A CMake template with its @VARS@ and #cmakedefine lines filled in. */
function configure(template) {
  return readFileSync(template, 'utf8')
    .replace(/@([A-Z_]+)@/g, (_, name) => {
      if (!(name in CONFIG)) throw new Error(`${template}: no value for @${name}@`);
      return CONFIG[name];
    })
    .replace(/^#cmakedefine ([A-Z_0-9]+)(.*)$/gm, (_, name, rest) => (DEFINED.has(name) ? `#define ${name}${rest}` : `/* #undef ${name} */`));
}

async function build() {
  const tarball = await pinnedDownload('build-libjpeg', SOURCE.url, join(CACHE, SOURCE.file), SOURCE.sha256);
  const src = join(CACHE, SOURCE.dir);
  if (!existsSync(src)) execFileSync('tar', ['xzf', tarball, '-C', CACHE]);
  const objDir = join(CACHE, 'libjpeg-obj');
  rmSync(objDir, { recursive: true, force: true });
  const include = join(objDir, 'include');
  mkdirSync(include, { recursive: true });
  for (const name of ['jconfig.h', 'jconfigint.h', 'jversion.h']) writeFileSync(join(include, name), configure(join(src, `${name}.in`)));
  // Paths relative to the project keep absolute checkout paths out of the objects. NO_GETENV: libjpeg's
  // memory manager would read JPEGMEM from the environment (a WASI import); NO_PUTENV goes with it.
  const flags = ['-I', relative(root, include), '-I', relative(root, src), '-DNO_GETENV', '-DNO_PUTENV', '-Wno-everything'];
  const jobs = [
    ...FILES.map((f) => ({ file: join(src, f), flags: f === 'jerror.c' ? [...flags, '-include', relative(root, QUIET)] : flags })),
    { file: GLUE, flags },
  ];
  return compileAndLink(root, objDir, 'imgpipe_libjpeg.wasm', OPT, jobs, LDFLAGS);
}

checkEmcc('build-libjpeg');
writeOrCheck('build-libjpeg', root, OUT, await build(), 'npm run build:libjpeg');
