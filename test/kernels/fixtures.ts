/** Fixture photos decoded to RGBA by sharp, and sharp's own Lanczos3 resize as the reference. */
import sharp from 'sharp';
import type { RGBAImage } from '../../src/image.js';
import { sharpRaw } from '../helpers/compare.js';
import { image } from '../helpers/fixtures.js';

export const decodeFixture = (name: string): Promise<RGBAImage> => sharpRaw(image(name));

/** sharp's resize of the same RGBA (raw input, so no shrink-on-load), stretched to exactly w x h. */
export async function sharpResize(img: RGBAImage, width: number, height: number): Promise<RGBAImage> {
  const input = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  return sharpRaw(sharp(input, { raw: { width: img.width, height: img.height, channels: 4 } }).resize(width, height, { kernel: 'lanczos3', fit: 'fill' }));
}
