/**
 * OSS's sharpen, 50..399 (100 recommended): an unsharp mask. The image minus a sigma-1 Gaussian blur
 * of itself is added back, scaled by value / 100, so higher values sharpen more (and, as OSS warns,
 * eventually add halos). Alpha is left as it was.
 */
import { ImgpipeError, describeValue } from '../errors.js';
import type { RGBAImage } from '../image.js';
import { blur } from './blur.js';

export function sharpen(image: RGBAImage, value: number): RGBAImage {
  if (!Number.isFinite(value) || value <= 0) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected a positive number for sharpen but received ${describeValue(value)}`);
  }
  const amount = value / 100;
  const soft = blur(image, { radius: 2, sigma: 1 }).data;
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
