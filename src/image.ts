/**
 * The pixel type every imgpipe operation takes and returns: 8-bit RGBA, row-major, unpremultiplied,
 * sRGB. Structurally compatible with the DOM's `ImageData`, so a canvas `ImageData` can be passed in
 * and our images can be put on a canvas, but no global `ImageData` is ever needed.
 */
export interface RGBAImage {
  readonly width: number;
  readonly height: number;
  /** width * height * 4 bytes: R, G, B, A. */
  readonly data: Uint8ClampedArray;
}

/** A new, fully transparent image (or filled with `rgba`, packed as 0xRRGGBBAA). */
export function createImage(width: number, height: number, rgba?: number): RGBAImage {
  const data = new Uint8ClampedArray(width * height * 4);
  if (rgba !== undefined && rgba !== 0) {
    // Fill through a 32-bit view: the byte order of RGBA in memory is little-endian ABGR.
    const r = (rgba >>> 24) & 255, g = (rgba >>> 16) & 255, b = (rgba >>> 8) & 255, a = rgba & 255;
    new Uint32Array(data.buffer).fill(((a << 24) | (b << 16) | (g << 8) | r) >>> 0);
  }
  return { width, height, data };
}

/** Wrap existing RGBA bytes (no copy). */
export function asImage(width: number, height: number, data: Uint8Array | Uint8ClampedArray): RGBAImage {
  const clamped = data instanceof Uint8ClampedArray ? data : new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength);
  return { width, height, data: clamped };
}

/** Whether this machine stores the low byte of a 32-bit word first (alpha is then a pixel's top byte). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * True when any pixel is not fully opaque. An opaque image must be read to its end: a pixel per
 * 32-bit read takes the recipe's three sizes of a photo from ~3.3 to ~2.0 ms (a baseline JPEG encode
 * asks its encoder instead, with SIMD, of the copy in its memory).
 */
export function hasAlpha(image: RGBAImage): boolean {
  const d = image.data;
  const pixels = d.length >> 2;
  if (LITTLE_ENDIAN && d.byteOffset % 4 === 0) {
    const words = new Uint32Array(d.buffer, d.byteOffset, pixels);
    for (let i = 0; i < pixels; i++) if (words[i] < 0xff000000) return true;
    return false;
  }
  for (let i = 3; i < pixels * 4; i += 4) if (d[i] !== 255) return true;
  return false;
}

/**
 * Composite onto an opaque background (JPEG has no alpha: transparent must not turn black). Each
 * channel is round((c * a + bg * (255 - a) + 127) / 255) in integers: x / 255 rounded down is
 * (x + 1 + (x >> 8)) >> 8 for every x this can reach (below 65536), and the +127 inside the
 * division then rounds to nearest, the value a Uint8ClampedArray store of the float quotient makes.
 * Opaque and fully transparent pixels, most of a graphic's, are a 32-bit copy or fill.
 */
export function flatten(image: RGBAImage, [br, bg, bb]: readonly [number, number, number]): RGBAImage {
  const src = image.data;
  const out = new Uint8ClampedArray(src.length);
  const pixels = src.length >> 2;
  const div255 = (x: number) => (x + 1 + (x >> 8)) >> 8;
  if (LITTLE_ENDIAN && src.byteOffset % 4 === 0) {
    const from = new Uint32Array(src.buffer, src.byteOffset, pixels);
    const to = new Uint32Array(out.buffer, 0, pixels);
    const background = (0xff000000 | (bb << 16) | (bg << 8) | br) >>> 0;
    for (let i = 0; i < pixels; i++) {
      const p = from[i];
      const a = p >>> 24;
      if (a === 255) to[i] = p;
      else if (a === 0) to[i] = background;
      else {
        const ia = 255 - a;
        const r = div255((p & 255) * a + br * ia + 254), g = div255(((p >>> 8) & 255) * a + bg * ia + 254), b = div255(((p >>> 16) & 255) * a + bb * ia + 254);
        to[i] = (0xff000000 | (b << 16) | (g << 8) | r) >>> 0;
      }
    }
  } else {
    for (let i = 0; i < pixels * 4; i += 4) {
      const a = src[i + 3], ia = 255 - a;
      out[i] = div255(src[i] * a + br * ia + 254);
      out[i + 1] = div255(src[i + 1] * a + bg * ia + 254);
      out[i + 2] = div255(src[i + 2] * a + bb * ia + 254);
      out[i + 3] = 255;
    }
  }
  return { width: image.width, height: image.height, data: out };
}
