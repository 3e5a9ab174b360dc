/** Mirror an image horizontally, vertically or both. */
import type { RGBAImage } from '../image.js';
import { checkOption, oneOf, type OpParams } from '../spec.js';
import { pixels32 } from './pixels.js';

export const FLIP_PARAMS = {
  value: { spec: oneOf('h', 'v', 'hv'), doc: 'axis', option: 'axis' },
} as const satisfies OpParams;

export type FlipAxis = 'h' | 'v' | 'hv';

export function flip(image: RGBAImage, axis: FlipAxis): RGBAImage {
  checkOption('flip', 'value', FLIP_PARAMS.value, axis);
  const { width, height } = image;
  const src = pixels32(image);
  const out = new Uint8ClampedArray(width * height * 4);
  const dst = new Uint32Array(out.buffer);
  const h = axis !== 'v', v = axis !== 'h';
  for (let y = 0; y < height; y++) {
    const sy = v ? height - 1 - y : y;
    for (let x = 0; x < width; x++) dst[y * width + x] = src[sy * width + (h ? width - 1 - x : x)];
  }
  return { width, height, data: out };
}
