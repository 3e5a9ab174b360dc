/**
 * The HEIC plug-in: libheif 1.15 with libde265 in their own WebAssembly module
 * (`wasm/libheif/`, built from Debian's sources), decoding as libheif's heif-convert does: grid
 * images assembled, `clap`/`irot`/`imir` applied, the alpha image attached, 10-bit images reduced to
 * 8 bits. imgpipe then converts the `colr` ICC profile to sRGB like any embedded profile.
 *
 * Each runtime's `imgpipe/heic` entry (entries/heic/) says where the module's bytes come from and
 * registers the plug-in; nothing here runs until a HEIC arrives.
 */
import { ImgpipeError } from '../errors.js';
import type { ImageHeader } from '../header.js';
import type { RGBAImage } from '../image.js';
import type { DecoderPlugin } from '../plugins.js';
import { lazyWasm, type PluginWasmSource } from '../wasm/modules.js';
import { requireCoding } from './heif-header.js';
import { OwnedInstance, copyIn, type OutputBufferExports } from '../wasm/instance.js';

/** What wasm/libheif/heif.c exports. */
interface HeifExports extends OutputBufferExports {
  _initialize(): void;
  imgpipe_message(): number;
  imgpipe_heif_decode(data: number, size: number, maxSide: number): number;
}

/**
 * libc's file calls, which libheif's unused file reader links in: every one reports "bad file
 * descriptor"; an exit (there is none on the paths imgpipe calls) traps the instance.
 */
const WASI: WebAssembly.ModuleImports = Object.freeze({
  proc_exit: (code: number) => { throw new WebAssembly.RuntimeError(`libheif exited with status ${code}`); },
  fd_close: () => 8, fd_write: () => 8, fd_seek: () => 8, fd_read: () => 8,
  environ_sizes_get: () => 8, environ_get: () => 8,
});
const IMPORTS: WebAssembly.Imports = Object.freeze({
  env: Object.freeze({ emscripten_notify_memory_growth: () => undefined }),
  wasi_snapshot_preview1: WASI,
});

/** libheif's heif_error_code values, and what each means for the caller. */
const ERRORS: Readonly<Record<number, ['CORRUPT_IMAGE' | 'UNSUPPORTED_FORMAT' | 'IMAGE_TOO_LARGE' | 'INTERNAL', string]>> = Object.freeze({
  1: ['CORRUPT_IMAGE', 'input does not exist'],
  2: ['CORRUPT_IMAGE', 'invalid input'],
  3: ['UNSUPPORTED_FORMAT', 'unsupported file type'],
  4: ['UNSUPPORTED_FORMAT', 'unsupported feature'],
  5: ['INTERNAL', 'usage error'],
  6: ['IMAGE_TOO_LARGE', 'out of memory'],
  7: ['CORRUPT_IMAGE', 'the HEVC decoder failed'],
});
/** heif_suberror_Security_limit_exceeded: a size or count over libheif's own limits. */
const SECURITY_LIMIT = 1000;

/** Options of `createHeicPlugin`. */
export interface HeicPluginOptions {
  /** Where the module comes from: a compiled module, its bytes, a URL, or a function returning one. */
  readonly wasm: PluginWasmSource;
}

/** A HEIC decoder plug-in whose module comes from `options.wasm` (each runtime entry passes its own). */
export function createHeicPlugin(options: HeicPluginOptions): DecoderPlugin {
  const libheif = new OwnedInstance<HeifExports>(lazyWasm(options.wasm), undefined, IMPORTS);

  async function decode(bytes: Uint8Array, header: ImageHeader): Promise<RGBAImage> {
    const heif = header.heif;
    if (!heif) throw new ImgpipeError('INTERNAL', 'The HEIC plug-in was given a header without its HEIF description');
    requireCoding(heif, 'a HEIF', 'HEVC', 'hvc1');
    await libheif.load();
    const need = heif.codedWidth * heif.codedHeight * 8 + bytes.byteLength;
    try {
      // libheif's second line of defence: no image in the file larger than the declared one (a grid's
      // canvas must be under its limit, hence the + 1). A trap or a failed call may leave libheif's
      // state half-changed: the instance is then dropped and the next call gets a fresh one.
      return await libheif.use((e) => run(e, bytes, Math.max(heif.codedWidth, heif.codedHeight) + 1), need);
    } catch (err) {
      if (err instanceof ImgpipeError) throw err;
      if (err instanceof RangeError || (err instanceof WebAssembly.RuntimeError && /memory|unreachable/.test(err.message))) {
        throw new ImgpipeError('IMAGE_TOO_LARGE', `Expected the ${heif.codedWidth}x${heif.codedHeight} HEIC to fit in WebAssembly memory but its decoder stopped: ${err.message}`, { cause: err });
      }
      throw new ImgpipeError('CORRUPT_IMAGE', `Expected a decodable HEIC but its decoder stopped: ${String((err as Error)?.message ?? err)}`, { cause: err });
    }
  }

  return Object.freeze({ name: 'heic', formats: Object.freeze(['heic'] as const), decode });
}

function run(e: HeifExports, bytes: Uint8Array, maxSide: number): RGBAImage {
  const ptr = copyIn(e, bytes);
  let status: number;
  try {
    status = e.imgpipe_heif_decode(ptr, bytes.byteLength, maxSide);
  } finally {
    e.imgpipe_free(ptr);
  }
  if (status !== 0) {
    const code = Math.floor(status / 65536), sub = status % 65536;
    const text = readString(e, e.imgpipe_message());
    const [errorCode, what] = sub === SECURITY_LIMIT ? (['IMAGE_TOO_LARGE', 'over libheif\'s limits'] as const) : ERRORS[code] ?? (['CORRUPT_IMAGE', `error ${code}`] as const);
    throw new ImgpipeError(errorCode, `Expected a decodable HEIC but libheif reports ${what}${text ? `: ${text}` : ''}`, { details: { libheif: code, subcode: sub } });
  }
  const width = e.imgpipe_output_width(), height = e.imgpipe_output_height();
  const out = e.imgpipe_output();
  const data = new Uint8ClampedArray(e.memory.buffer.slice(out, out + e.imgpipe_output_size()));
  e.imgpipe_release();
  return { width, height, data };
}

function readString(e: HeifExports, ptr: number): string {
  const bytes = new Uint8Array(e.memory.buffer, ptr, Math.min(256, e.memory.buffer.byteLength - ptr));
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(bytes.subarray(0, end < 0 ? bytes.length : end));
}
