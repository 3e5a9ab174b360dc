/** OSS's bright: -100..100, 0 = unchanged. Adds value x 2.55 to R, G and B (alpha untouched). */
import type { RGBAImage } from '../image.js';
import { checkOption, int, type OpParams } from '../spec.js';
import { applyLut } from './lut.js';

export const BRIGHT_PARAMS = {
  value: { spec: int(-100, 100), doc: 'brightness' },
} as const satisfies OpParams;

export function bright(image: RGBAImage, value: number): RGBAImage {
  const offset = checkOption('bright', 'value', BRIGHT_PARAMS.value, value) * 2.55;
  return applyLut(image, (v) => v + offset);
}
