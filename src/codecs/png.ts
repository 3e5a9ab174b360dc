/**
 * PNG through the Rust `png` crate (jSquash's WASM build), driven by imgpipe's own copy of its small
 * wasm-bindgen glue. The packaged glue keeps one instance in a module-private variable for the life
 * of the process, and every failed decode leaves that instance worse off: a Rust error is thrown
 * through the WASM frames without restoring the shadow-stack pointer (1408 bytes lost per failure)
 * nor freeing the input copy. After ~750 damaged PNGs the stack runs into the heap and every later
 * PNG, good or bad, fails or decodes to garbage (found by bench/fuzz.ts). Owning the glue lets us do
 * what instance.ts does for the Emscripten codecs: a failure discards the instance, and an instance
 * whose memory grew past RECYCLE_BYTES is let go of once idle or before a much smaller job (`Retention`).
 */
import { ImgpipeError } from '../errors.js';
import { asImage, type RGBAImage } from '../image.js';
import type { ImageHeader } from '../header.js';
import { getWasmModule } from '../wasm.js';
import { Retention, codecMessage, ownBytes } from './instance.js';
import { checkPngChunks } from './png-chunks.js';

interface PngExports {
  memory: WebAssembly.Memory;
  decode(ptr: number, len: number): number;
  encode(retptr: number, ptr: number, len: number, width: number, height: number, bitDepth: number): void;
  __wbindgen_malloc(size: number, align: number): number;
  __wbindgen_free(ptr: number, size: number, align: number): void;
  __wbindgen_add_to_stack_pointer(delta: number): number;
}

interface Decoded { data: Uint8ClampedArray; width: number; height: number }

/** One instance with its JS-side object table (wasm-bindgen's "heap": indices < 132 are reserved). */
class PngInstance {
  readonly exports: PngExports;
  private readonly objects = new Map<number, unknown>();
  private nextId = 132;

  constructor(module: WebAssembly.Module) {
    const bytes = (ptr: number, len: number) => new Uint8Array(this.exports.memory.buffer, ptr >>> 0, len);
    const add = (value: unknown) => { const id = this.nextId++; this.objects.set(id, value); return id; };
    const imports = {
      wbg: {
        __wbindgen_memory: () => add(this.exports.memory),
        __wbg_buffer_a448f833075b71ba: (id: number) => add((this.objects.get(id) as WebAssembly.Memory).buffer),
        __wbg_newwithbyteoffsetandlength_099217381c451830: (id: number, offset: number, length: number) =>
          add(new Uint16Array(this.objects.get(id) as ArrayBuffer, offset >>> 0, length >>> 0)),
        __wbindgen_object_drop_ref: (id: number) => void this.objects.delete(id),
        // Called by `decode` with the RGBA it allocated; the glue frees it after copying.
        __wbg_newwithownedu8clampedarrayandsh_91db5987993a08fb: (ptr: number, len: number, width: number, height: number) => {
          const data = new Uint8ClampedArray(bytes(ptr, len));
          this.exports.__wbindgen_free(ptr, len, 1);
          return add({ data, width: width >>> 0, height: height >>> 0 } satisfies Decoded);
        },
        __wbindgen_throw: (ptr: number, len: number) => {
          throw new Error(new TextDecoder().decode(bytes(ptr, len)));
        },
      },
    };
    this.exports = new WebAssembly.Instance(module, imports).exports as unknown as PngExports;
  }

  private pass(data: Uint8Array): number {
    const ptr = this.exports.__wbindgen_malloc(data.length, 1) >>> 0;
    new Uint8Array(this.exports.memory.buffer).set(data, ptr);
    return ptr;
  }

  decode(data: Uint8Array): Decoded {
    const id = this.exports.decode(this.pass(data), data.length);
    const out = this.objects.get(id) as Decoded;
    this.objects.delete(id);
    return out;
  }

  encode(data: Uint8Array, width: number, height: number): Uint8Array {
    const retptr = this.exports.__wbindgen_add_to_stack_pointer(-16);
    try {
      this.exports.encode(retptr, this.pass(data), data.length, width, height, 8);
      const [ptr, len] = new Int32Array(this.exports.memory.buffer, retptr, 2);
      const out = new Uint8Array(this.exports.memory.buffer, ptr >>> 0, len).slice();
      this.exports.__wbindgen_free(ptr, len, 1);
      return out;
    } finally {
      this.exports.__wbindgen_add_to_stack_pointer(16);
    }
  }
}

let live: PngInstance | undefined;

/** Forgets the instance when a job leaves its memory grown (see `Retention`); a failure forgets it in `use`. */
const retention = new Retention(() => (live = undefined));

/** Run `fn` on a healthy instance (`needBytes`: roughly what this job needs; see `Retention`). */
async function use<T>(fn: (png: PngInstance) => T, needBytes: number): Promise<T> {
  const module = await getWasmModule('png');
  let png = (live ??= new PngInstance(module));
  if (retention.replaceFor(png.exports.memory.buffer.byteLength, needBytes)) png = live = new PngInstance(module);
  try {
    return fn(png);
  } catch (e) {
    live = undefined;
    throw e;
  } finally {
    if (live === png) retention.settle(png.exports.memory.buffer.byteLength);
  }
}

export async function decodePng(file: Uint8Array, header: ImageHeader): Promise<RGBAImage> {
  // Critical chunks checked, bad ancillary chunks dropped (png-chunks.ts): what is left is what
  // libspng would decode.
  const { bytes } = checkPngChunks(file);
  let out: Decoded | undefined;
  try {
    // Every bit depth, palette and grey(+alpha) comes out as 8-bit RGBA.
    out = await use((png) => png.decode(bytes), bytes.byteLength + header.width * header.height * 8);
  } catch (e) {
    // The Rust decoder's errors reach us as "unwrap_throw failed": with the chunks checked, what is
    // left to fail is the compressed image data.
    const message = codecMessage(e);
    const what = /unwrap_throw/.test(message) ? 'its image data (IDAT) is damaged or ends early' : `the decoder failed: ${message}`;
    throw new ImgpipeError('CORRUPT_IMAGE', `Expected a decodable PNG but ${what}`, { cause: e });
  }
  if (!out || out.width !== header.width || out.height !== header.height) {
    throw new ImgpipeError('CORRUPT_IMAGE', `Expected ${header.width}x${header.height} pixels as the PNG header declares but the decoder returned ${out ? `${out.width}x${out.height}` : 'nothing'}`);
  }
  return asImage(out.width, out.height, out.data);
}

export async function encodePng(image: RGBAImage): Promise<Uint8Array> {
  try {
    const data = new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength);
    return ownBytes(await use((png) => png.encode(data, image.width, image.height), image.width * image.height * 8));
  } catch (e) {
    throw new ImgpipeError('INTERNAL', `PNG encoding failed: ${codecMessage(e)}`, { cause: e });
  }
}
