/**
 * OSS's contrast: -100..100, 0 = unchanged. Scales each channel around mid-grey (128) by
 * ((100 + value) / 100)^2, so -100 gives flat grey and 100 a 4x steeper curve.
 */
import type { RGBAImage } from '../image.js';
import { checkOption, int, type OpParams } from '../spec.js';
import { applyLut } from './lut.js';

export const CONTRAST_PARAMS = {
  value: { spec: int(-100, 100), doc: 'contrast' },
} as const satisfies OpParams;

export function contrast(image: RGBAImage, value: number): RGBAImage {
  const f = ((100 + checkOption('contrast', 'value', CONTRAST_PARAMS.value, value)) / 100) ** 2;
  return applyLut(image, (v) => 128 + (v - 128) * f);
}
