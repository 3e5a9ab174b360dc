#!/usr/bin/env node
/**
 * Build the `imgpipe/heic` plug-in's module (`wasm/libheif/build/imgpipe_heif.wasm`): libheif with
 * libde265 (HEVC), from Debian 12's source packages (upstream tarball plus Debian's patches, the
 * security fixes among them), with Debian's Emscripten, libde265's SSE4.1 code paths on WebAssembly
 * SIMD.
 *
 *   apt-get install -y emscripten            # Debian 12's emscripten 3.1.6
 *   npm run build:libheif                    # rebuild the committed module
 *   npm run build:libheif -- --check         # rebuild and fail unless it is byte-identical (CI)
 *
 * Like wasm/libwebp the build is committed (npm carries no C toolchain) and CI checks it is what
 * this script produces. Every downloaded file is pinned by SHA-256 and cached in `.cache/`.
 *
 * Two edits to libheif's sources, both about its Emscripten build, are made here (`EDITS`):
 * - heif.cc includes its embind bindings when built by Emscripten; imgpipe calls libheif through
 *   the plain C interface in wasm/libheif/heif.c, so they are left out (no JavaScript glue);
 * - the libde265 plug-in turns HEVC's deblocking and SAO filters off under Emscripten "to speed up
 *   decoding": that changes the pixels (blocky edges, ~2-3 levels off libheif's native decode), so
 *   imgpipe keeps them on and decodes as heif-convert does.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KEEP_LARGE_FUNCTIONS, checkEmcc, compileAndLink, fail as failWith, linkFlags, unpackDebianSource, writeOrCheck } from './emscripten.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const POOL = 'http://deb.debian.org/debian/pool/main';
/** Debian 12's source packages: the upstream tarball and Debian's patches (`debian/patches/series`). */
const PACKAGES = [
  {
    name: 'libde265', version: '1.0.11', dir: 'libde265-1.0.11',
    orig: { file: 'libde265_1.0.11.orig.tar.gz', url: `${POOL}/libd/libde265/libde265_1.0.11.orig.tar.gz`, sha256: '2f8f12cabbdb15e53532b7c1eb964d4e15d444db1be802505e6ac97a25035bab' },
    debian: { file: 'libde265_1.0.11-1+deb12u2.debian.tar.xz', url: `${POOL}/libd/libde265/libde265_1.0.11-1%2Bdeb12u2.debian.tar.xz`, sha256: '81de2919da09690f2fb80383fcc68cda397bfed878a010061627f7794e278f4b' },
  },
  {
    name: 'libheif', version: '1.15.1', dir: 'libheif-1.15.1',
    orig: { file: 'libheif_1.15.1.orig.tar.gz', url: `${POOL}/libh/libheif/libheif_1.15.1.orig.tar.gz`, sha256: '28d5a376fe7954d2d03453f983aaa0b7486f475c27c7806bda31df9102325556' },
    debian: { file: 'libheif_1.15.1-1+deb12u1.debian.tar.xz', url: `${POOL}/libh/libheif/libheif_1.15.1-1%2Bdeb12u1.debian.tar.xz`, sha256: 'f3a042fce4231e8feddd032bf93b808a6db96614c20888b78d1042a15e378817' },
  },
];
const OUT = join(root, 'wasm/libheif/build/imgpipe_heif.wasm');
const GLUE = join(root, 'wasm/libheif/heif.c');
const CACHE = join(root, '.cache/libheif');

const DE265_FILES = ['alloc_pool', 'bitstream', 'cabac', 'configparam', 'contextmodel', 'de265', 'deblock', 'decctx', 'dpb',
  'fallback-dct', 'fallback-motion', 'fallback', 'image', 'intrapred', 'md5', 'motion', 'nal-parser', 'nal', 'pps',
  'quality', 'refpic', 'sao', 'scan', 'sei', 'slice', 'sps', 'threads', 'transform', 'util', 'vps', 'vui',
  'x86/sse', 'x86/sse-motion', 'x86/sse-dct'].map((f) => `libde265/${f}.cc`);
const HEIF_FILES = ['bitstream', 'box', 'error', 'heif', 'heif_context', 'heif_file', 'heif_image', 'heif_hevc', 'heif_avif',
  'heif_colorconversion', 'heif_plugin_registry', 'heif_plugin', 'nclx', 'heif_init', 'metadata_compression', 'common_utils',
  'plugins/heif_decoder_libde265'].map((f) => `libheif/${f}.cc`);

/** Source edits (see the header comment); each must match exactly once. */
const EDITS = [
  { file: 'libheif/heif.cc', from: '#if defined(__EMSCRIPTEN__)\n#include "heif_emscripten.h"\n#endif\n', to: '' },
  {
    file: 'libheif/plugins/heif_decoder_libde265.cc',
    from: '  de265_set_parameter_bool(decoder->ctx, DE265_DECODER_PARAM_DISABLE_DEBLOCKING, 1);\n  de265_set_parameter_bool(decoder->ctx, DE265_DECODER_PARAM_DISABLE_SAO, 1);\n',
    to: '',
  },
];

const OPT = ['-O3', '-flto', '-DNDEBUG', '-msimd128', '-mbulk-memory', '-mnontrapping-fptoint'];
const DE265_FLAGS = [
  // libde265's SSE4.1 motion compensation and transforms, on WASM SIMD through Emscripten's SSE
  // headers; wasm/libheif/include/cpuid.h answers libde265's CPU check.
  '-msse4.1', '-DHAVE_SSE4_1', '-I', 'wasm/libheif/include',
  '-Wno-everything',
];
const HEIF_FLAGS = ['-DHAVE_LIBDE265=1', '-Wno-everything'];
const LDFLAGS = [...linkFlags(['imgpipe_output_alpha', 'imgpipe_output_bits', 'imgpipe_icc', 'imgpipe_icc_size', 'imgpipe_nclx',
  'imgpipe_message', 'imgpipe_heif_decode']), KEEP_LARGE_FUNCTIONS];

const fail = (message) => failWith('build-libheif', message);

const unpack = (pkg) => unpackDebianSource('build-libheif', CACHE, pkg);

async function build() {
  mkdirSync(CACHE, { recursive: true });
  const [de265, heif] = [await unpack(PACKAGES[0]), await unpack(PACKAGES[1])];
  for (const edit of EDITS) {
    const path = join(heif, edit.file);
    const text = readFileSync(path, 'utf8');
    if (text.split(edit.from).length !== 2) fail(`${edit.file} no longer holds the text this script edits`);
    writeFileSync(path, text.replace(edit.from, edit.to));
  }
  // What CMake would generate from heif_version.h.in.
  const [major, minor, patch] = PACKAGES[1].version.split('.');
  writeFileSync(join(heif, 'libheif/heif_version.h'), readFileSync(join(heif, 'libheif/heif_version.h.in'), 'utf8')
    .replaceAll('@PROJECT_VERSION_MAJOR@', major).replaceAll('@PROJECT_VERSION_MINOR@', minor)
    .replaceAll('@PROJECT_VERSION_PATCH@', patch).replaceAll('@PLUGIN_DIRECTORY@', ''));

  const objDir = join(CACHE, 'obj');
  rmSync(objDir, { recursive: true, force: true });
  mkdirSync(objDir, { recursive: true });
  // Paths relative to the project keep absolute checkout paths out of the objects.
  const rel = (p) => relative(root, p);
  const jobs = [
    ...DE265_FILES.map((f) => ({ file: join(de265, f), flags: [...DE265_FLAGS, '-I', rel(de265), '-I', rel(join(de265, 'libde265'))] })),
    ...HEIF_FILES.map((f) => ({ file: join(heif, f), flags: [...HEIF_FLAGS, '-std=c++11', '-I', rel(heif), '-I', rel(join(heif, 'libheif')), '-I', rel(de265)] })),
    { file: GLUE, flags: ['-I', rel(heif)] },
  ];
  return compileAndLink(root, objDir, 'imgpipe_heif.wasm', OPT, jobs, LDFLAGS);
}

checkEmcc('build-libheif');
writeOrCheck('build-libheif', root, OUT, await build(), 'npm run build:libheif');
