/**
 * Rounded corners of radius r (clamped to half the shorter side, as OSS), made transparent outside
 * the rounding with an anti-aliased edge. Only the four r x r corner squares are touched.
 */
import type { RGBAImage } from '../image.js';
import { checkOption, int, type OpParams } from '../spec.js';
import { edgeCoverage } from './circle.js';

export const ROUNDED_CORNERS_PARAMS = {
  r: { spec: int(1, 4096), doc: 'corner radius', option: 'radius' },
} as const satisfies OpParams;

export function roundedCorners(image: RGBAImage, radius: number): RGBAImage {
  const { width: w, height: h } = image;
  const r = Math.min(checkOption('rounded-corners', 'r', ROUNDED_CORNERS_PARAMS.r, radius), Math.floor(Math.min(w, h) / 2));
  const data = new Uint8ClampedArray(image.data);
  for (let y = 0; y < r; y++) {
    for (let x = 0; x < r; x++) {
      const cover = edgeCoverage(Math.hypot(r - (x + 0.5), r - (y + 0.5)), r);
      if (cover >= 1) continue;
      // The same coverage applies to the mirrored pixel in each of the four corners.
      for (const [cx, cy] of [[x, y], [w - 1 - x, y], [x, h - 1 - y], [w - 1 - x, h - 1 - y]]) {
        data[(cy * w + cx) * 4 + 3] *= cover;
      }
    }
  }
  return { width: w, height: h, data };
}
