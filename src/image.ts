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

/** True when any pixel is not fully opaque. */
export function hasAlpha(image: RGBAImage): boolean {
  const d = image.data;
  for (let i = 3; i < d.length; i += 4) if (d[i] !== 255) return true;
  return false;
}

/** Parse `RRGGBB` (no `#`) into [r, g, b]; undefined when malformed. */
export function parseHexColor(hex: string): [number, number, number] | undefined {
  if (!/^[0-9a-fA-F]{6}$/.test(hex)) return undefined;
  const n = parseInt(hex, 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}
