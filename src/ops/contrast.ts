/**
 * OSS's contrast: -100..100, 0 = unchanged. Scales each channel around mid-grey (128) by
 * ((100 + value) / 100)^2, so -100 gives flat grey and 100 a 4x steeper curve.
 */
import { ImgpipeError, describeValue } from '../errors.js';
import type { RGBAImage } from '../image.js';
import { applyLut } from './lut.js';

export function contrastFactor(value: number): number {
  return ((100 + value) / 100) ** 2;
}

export function contrast(image: RGBAImage, value: number): RGBAImage {
  if (!Number.isFinite(value) || value < -100 || value > 100) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected a number between -100 and 100 for contrast but received ${describeValue(value)}`);
  }
  const f = contrastFactor(value);
  return applyLut(image, (v) => 128 + (v - 128) * f);
}
