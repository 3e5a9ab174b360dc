/** Small helpers shared by the geometric operations. */
import type { RGBAImage } from '../image.js';

/**
 * The image's pixels as one 32-bit word each, for whole-pixel copies. A Uint32Array view needs a
 * 4-byte-aligned offset; a caller's subarray may not have one, so that case is copied first.
 */
export function pixels32(image: RGBAImage): Uint32Array {
  const d = image.data;
  if (d.byteOffset % 4 === 0) return new Uint32Array(d.buffer, d.byteOffset, image.width * image.height);
  return new Uint32Array(d.slice().buffer);
}
