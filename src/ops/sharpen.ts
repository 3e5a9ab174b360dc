/**
 * OSS's sharpen, 50..399 (100 recommended): an unsharp mask. The image minus a sigma-1 Gaussian blur
 * of itself is added back, scaled by value / 100, so higher values sharpen more (and, as OSS warns,
 * eventually add halos). Alpha is left as it was.
 */
import type { RGBAImage } from '../image.js';
import { checkOption, int, type OpParams } from '../spec.js';
import { gaussianBlur } from './blur.js';

export const SHARPEN_PARAMS = {
  value: { spec: int(50, 399), doc: 'strength' },
} as const satisfies OpParams;

export function sharpen(image: RGBAImage, value: number): RGBAImage {
  const amount = checkOption('sharpen', 'value', SHARPEN_PARAMS.value, value) / 100;
  const soft = gaussianBlur(image, 2, 1).data;
  const s = image.data;
  const out = new Uint8ClampedArray(s.length);
  for (let i = 0; i < s.length; i += 4) {
    out[i] = s[i] + (s[i] - soft[i]) * amount;
    out[i + 1] = s[i + 1] + (s[i + 1] - soft[i + 1]) * amount;
    out[i + 2] = s[i + 2] + (s[i + 2] - soft[i + 2]) * amount;
    out[i + 3] = s[i + 3];
  }
  return { width: image.width, height: image.height, data: out };
}
