/**
 * OSS's circle: the 2r x 2r square around the image centre, with everything outside the circle of
 * radius r made transparent. r is clamped to half the shorter side, as OSS does. The edge is
 * anti-aliased by pixel coverage so it does not look jagged.
 */
import type { RGBAImage } from '../image.js';
import { checkOption, int, type OpParams } from '../spec.js';
import { crop } from './crop.js';

export const CIRCLE_PARAMS = {
  r: { spec: int(1, 4096), doc: 'radius', option: 'radius' },
} as const satisfies OpParams;

export function circle(image: RGBAImage, radius: number): RGBAImage {
  const r = Math.min(checkOption('circle', 'r', CIRCLE_PARAMS.r, radius), Math.floor(Math.min(image.width, image.height) / 2));
  if (r < 1) return image;
  const side = 2 * r;
  const square = crop(image, {
    x: Math.floor((image.width - side) / 2), y: Math.floor((image.height - side) / 2), width: side, height: side,
  });
  const data = square === image ? new Uint8ClampedArray(image.data) : square.data;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const cover = edgeCoverage(Math.hypot(x + 0.5 - r, y + 0.5 - r), r);
      if (cover < 1) data[(y * side + x) * 4 + 3] *= cover;
    }
  }
  return { width: side, height: side, data };
}

/** Fraction of a pixel at `distance` from a centre that lies inside radius `r` (1 px ramp). */
export function edgeCoverage(distance: number, r: number): number {
  return Math.max(0, Math.min(1, r - distance + 0.5));
}
