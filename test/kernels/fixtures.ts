/** Fixture photos decoded to RGBA by sharp, and sharp's own Lanczos3 resize as the reference. */
import sharp from 'sharp';
import { createImage, type RGBAImage } from '../../src/image.js';
import { sharpRaw } from '../helpers/compare.js';
import { image } from '../helpers/fixtures.js';

export const decodeFixture = (name: string): Promise<RGBAImage> => sharpRaw(image(name));

/** sharp's resize of the same RGBA (raw input, so no shrink-on-load), stretched to exactly w x h. */
export async function sharpResize(img: RGBAImage, width: number, height: number): Promise<RGBAImage> {
  const input = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  return sharpRaw(sharp(input, { raw: { width: img.width, height: img.height, channels: 4 } }).resize(width, height, { kernel: 'lanczos3', fit: 'fill' }));
}

/**
 * A deterministic, detailed test image: gradients, a checkerboard and, when asked, per-pixel alpha
 * (from row `alphaFrom` down; above it the image is opaque).
 */
export function synthetic(width: number, height: number, alpha: boolean, alphaFrom = 0): RGBAImage {
  const img = createImage(width, height);
  const d = img.data;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      d[i] = (x * 255) / Math.max(1, width - 1);
      d[i + 1] = (y * 255) / Math.max(1, height - 1);
      d[i + 2] = ((x >> 2) + (y >> 2)) & 1 ? 230 : 20;
      d[i + 3] = alpha && y >= alphaFrom ? 255 - ((x * 7 + y * 13) % 256) : 255;
    }
  }
  return img;
}
