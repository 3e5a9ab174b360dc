/**
 * Image comparison for tests: outputs are judged against sharp (libvips) renditions of the same
 * input by a perceptual hash (structure) and a mean colour distance (tone), never by eyeballing.
 */
import sharp, { type Sharp } from 'sharp';
import type { RGBAImage } from '../../src/image.js';

sharp.cache(false);

/** Decode any image bytes to RGBA with sharp (the reference decoder). */
export async function sharpRaw(bytes: Uint8Array | Sharp): Promise<RGBAImage> {
  const s = bytes instanceof Uint8Array ? sharp(bytes) : bytes;
  const { data, info } = await s.ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength) };
}

/** 64-bit difference hash of a 9x8 greyscale thumbnail, computed the same way for both images. */
export async function dHash(img: RGBAImage): Promise<bigint> {
  const { data } = await sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: 4 },
  }).flatten({ background: '#ffffff' }).greyscale().resize(9, 8, { fit: 'fill', kernel: 'lanczos3' }).raw().toBuffer({ resolveWithObject: true });
  let h = 0n;
  for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) h = (h << 1n) | (data[y * 9 + x] > data[y * 9 + x + 1] ? 1n : 0n);
  return h;
}

export function hamming(a: bigint, b: bigint): number {
  let x = a ^ b, n = 0;
  while (x) { n += Number(x & 1n); x >>= 1n; }
  return n;
}

/**
 * Mean absolute difference per channel (0..255) of premultiplied RGB plus alpha: the colour hidden
 * under a fully transparent pixel is invisible and is not counted. Images must be the same size.
 */
export function meanDelta(a: RGBAImage, b: RGBAImage): number {
  if (a.width !== b.width || a.height !== b.height) throw new Error(`size mismatch ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  const A = a.data, B = b.data;
  let sum = 0;
  for (let i = 0; i < A.length; i += 4) {
    const aa = A[i + 3] / 255, ba = B[i + 3] / 255;
    sum += Math.abs(A[i] * aa - B[i] * ba) + Math.abs(A[i + 1] * aa - B[i + 1] * ba) + Math.abs(A[i + 2] * aa - B[i + 2] * ba) + Math.abs(A[i + 3] - B[i + 3]);
  }
  return sum / A.length;
}

export interface Similarity { hash: number; delta: number }

export async function similarity(a: RGBAImage, b: RGBAImage): Promise<Similarity> {
  return { hash: hamming(await dHash(a), await dHash(b)), delta: meanDelta(a, b) };
}
