/** GIF, first frame, through omggif (pure JS: GIF is small and rare enough not to need WASM). */
import { ImgpipeError } from '../errors.js';
import { createImage, type RGBAImage } from '../image.js';
import type { ImageHeader } from '../header.js';
import { codecMessage } from '../wasm/instance.js';

export async function decodeGif(bytes: Uint8Array, header: ImageHeader): Promise<RGBAImage> {
  // Imported on first use: GIF uploads are rare, and a cold start shouldn't load the decoder.
  const { GifReader } = await import('omggif');
  try {
    let reader = new GifReader(bytes);
    let frame = reader.frameInfo(0);
    if (frame.palette_offset === null) {
      // No colour table at all: omggif would read colours from the file's first bytes ("GIF").
      bytes = withDefaultPalette(bytes);
      reader = new GifReader(bytes);
      frame = reader.frameInfo(0);
    }
    // omggif allocates the frame's own width x height before decoding: a frame larger than the
    // canvas (which passed the limits) would be an allocation the limits never saw.
    if (frame.x + frame.width > header.width || frame.y + frame.height > header.height) {
      throw new ImgpipeError('CORRUPT_IMAGE', `Expected the first GIF frame to lie within the ${header.width}x${header.height} canvas but it is ${frame.width}x${frame.height} at ${frame.x},${frame.y}`);
    }
    checkLzw(bytes, frame.data_offset, frame.width * frame.height);
    const image = createImage(header.width, header.height);
    reader.decodeAndBlitFrameRGBA(0, image.data as unknown as Uint8Array);
    return image;
  } catch (e) {
    if (e instanceof ImgpipeError) throw e;
    // omggif reads past the end of a cut-off file without checking (a TypeError, whose text would say
    // nothing to a user); its own errors name the block it could not parse.
    const what = e instanceof TypeError || e instanceof RangeError
      ? `its block structure is cut off or malformed (${bytes.length} bytes received)`
      : `the decoder failed: ${codecMessage(e)}`;
    throw new ImgpipeError('CORRUPT_IMAGE', `Expected a decodable GIF but ${what}`, { cause: e });
  }
}

/**
 * The GIF with a global colour table inserted: the default table libnsgif (and so sharp) uses for a
 * file with neither a global nor a local table, index 0 black, 1 white, the rest black.
 */
function withDefaultPalette(b: Uint8Array): Uint8Array {
  const table = new Uint8Array(256 * 3);
  table.fill(255, 3, 6);
  const out = new Uint8Array(b.length + table.length);
  out.set(b.subarray(0, 13));
  out[10] = (b[10] & 0x70) | 0x87; // global table present, 256 entries; the colour resolution bits kept
  out.set(table, 13);
  out.set(b.subarray(13), 13 + table.length);
  return out;
}

/**
 * Walk the frame's LZW code stream without producing pixels, refusing two kinds of damage omggif
 * does not refuse:
 * - a code that refers to a table entry not yet defined. omggif trusts such codes, and with them a
 *   damaged file can build an entry whose prefix is itself, on which omggif's prefix chase loops
 *   forever (a hang no timeout inside one call can stop);
 * - a stream that decodes to more or fewer pixels than the frame holds. omggif answers that with
 *   `console.log("Warning, gif stream longer/shorter than expected.")` on stdout, which in Function
 *   Compute lands in the function's log as an unstructured line, and returns a partly blank frame.
 *   Refused instead, like a truncated JPEG, so the damage surfaces as CORRUPT_IMAGE.
 * The walk mirrors omggif's bit reader and its table (tracking each entry's length rather than its
 * bytes), and stops where omggif stops: at the end code or the end of the data.
 */
function checkLzw(b: Uint8Array, p: number, pixels: number): void {
  const minCodeSize = b[p++];
  if (!(minCodeSize >= 1 && minCodeSize <= 11)) {
    throw new ImgpipeError('CORRUPT_IMAGE', `Expected a GIF LZW minimum code size between 1 and 11 but received ${minCodeSize}`);
  }
  const clear = 1 << minCodeSize, eoi = clear + 1;
  let next = eoi + 1, size = minCodeSize + 1, mask = (1 << size) - 1;
  let cur = 0, shift = 0, hasPrev = false, prev = 0, produced = 0;
  // Length of the string each table entry stands for; single-pixel codes (below `clear`) are 1.
  const lengths = new Uint16Array(4096);
  const lengthOf = (code: number) => (code < clear ? 1 : lengths[code]);
  let block = b[p++] ?? 0;
  for (;;) {
    while (shift < 16 && block > 0 && p < b.length) {
      cur |= b[p++] << shift;
      shift += 8;
      if (block === 1) block = b[p++] ?? 0;
      else block--;
    }
    if (shift < size) break;
    const code = cur & mask;
    cur >>= size;
    shift -= size;
    if (code === clear) {
      next = eoi + 1;
      size = minCodeSize + 1;
      mask = (1 << size) - 1;
      hasPrev = false;
      continue;
    }
    if (code === eoi) break;
    if (code > next || (code === next && !hasPrev)) {
      throw new ImgpipeError('CORRUPT_IMAGE', `Expected GIF LZW codes to refer to defined table entries (at most ${next}) but received code ${code}`);
    }
    // Code `next` is the previous string plus its own first pixel (the KwKwK case).
    produced += code < next ? lengthOf(code) : lengthOf(prev) + 1;
    if (produced > pixels) throw lzwLength(pixels, `more (at least ${produced})`);
    if (hasPrev && next < 4096) {
      lengths[next] = lengthOf(prev) + 1;
      next++;
      if (next >= mask + 1 && size < 12) {
        size++;
        mask = (mask << 1) | 1;
      }
    }
    hasPrev = true;
    prev = code;
  }
  if (produced !== pixels) throw lzwLength(pixels, String(produced));
}

function lzwLength(pixels: number, received: string): ImgpipeError {
  return new ImgpipeError('CORRUPT_IMAGE', `Expected the GIF frame's LZW data to decode to ${pixels} pixels but it decodes to ${received}`);
}
