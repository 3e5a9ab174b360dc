/** OSS's bright: -100..100, 0 = unchanged. Adds value x 2.55 to R, G and B (alpha untouched). */
import { ImgpipeError, describeValue } from '../errors.js';
import type { RGBAImage } from '../image.js';
import { applyLut } from './lut.js';

export function bright(image: RGBAImage, value: number): RGBAImage {
  if (!Number.isFinite(value) || value < -100 || value > 100) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected a number between -100 and 100 for bright but received ${describeValue(value)}`);
  }
  const offset = value * 2.55;
  return applyLut(image, (v) => v + offset);
}
