/**
 * Clockwise rotation. Multiples of 90 degrees move whole pixels (lossless); other angles enlarge the
 * canvas to hold the rotated image and sample bilinearly in premultiplied alpha, so transparent
 * corners do not bleed dark fringes. New canvas area is transparent.
 */
import type { RGBAImage } from '../image.js';
import { checkOption, int, type OpParams } from '../spec.js';
import { pixels32 } from './pixels.js';

export const ROTATE_PARAMS = {
  value: { spec: int(0, 360), doc: 'clockwise degrees', default: 0, option: 'degrees' },
} as const satisfies OpParams;

/** The canvas a rotation by `degrees` produces: computed before allocating, to check limits. */
export function rotatedSize(width: number, height: number, degrees: number): { width: number; height: number } {
  const d = ((degrees % 360) + 360) % 360;
  if (d === 0 || d === 180) return { width, height };
  if (d === 90 || d === 270) return { width: height, height: width };
  const rad = (d * Math.PI) / 180;
  const c = Math.abs(Math.cos(rad)), s = Math.abs(Math.sin(rad));
  // Round away tiny float error before ceil so 45 degrees of a square is exact on every engine.
  const fit = (v: number) => Math.ceil(Math.round(v * 1e6) / 1e6);
  return { width: fit(width * c + height * s), height: fit(width * s + height * c) };
}

export function rotate(image: RGBAImage, degrees: number): RGBAImage {
  const d = checkOption('rotate', 'value', ROTATE_PARAMS.value, degrees) % 360;
  if (d === 0) return image;
  if (d % 90 === 0) return rotateRight(image, d / 90);
  return rotateFree(image, d);
}

function rotateRight(image: RGBAImage, quarters: number): RGBAImage {
  const { width: w, height: h } = image;
  const src = pixels32(image);
  const { width: ow, height: oh } = rotatedSize(w, h, quarters * 90);
  const out = new Uint8ClampedArray(ow * oh * 4);
  const dst = new Uint32Array(out.buffer);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = src[y * w + x];
      if (quarters === 1) dst[x * ow + (h - 1 - y)] = p;
      else if (quarters === 2) dst[(h - 1 - y) * ow + (w - 1 - x)] = p;
      else dst[(w - 1 - x) * ow + y] = p;
    }
  }
  return { width: ow, height: oh, data: out };
}

function rotateFree(image: RGBAImage, degrees: number): RGBAImage {
  const { width: w, height: h, data: s } = image;
  const { width: ow, height: oh } = rotatedSize(w, h, degrees);
  const out = new Uint8ClampedArray(ow * oh * 4);
  const rad = (degrees * Math.PI) / 180;
  const cos = Math.cos(rad), sin = Math.sin(rad);
  const cx = w / 2, cy = h / 2, ocx = ow / 2, ocy = oh / 2;
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      // Inverse mapping from the output pixel centre back into the source (clockwise rotation).
      const dx = x + 0.5 - ocx, dy = y + 0.5 - ocy;
      const sx = dx * cos + dy * sin + cx - 0.5;
      const sy = -dx * sin + dy * cos + cy - 0.5;
      const x0 = Math.floor(sx), y0 = Math.floor(sy);
      if (x0 < -1 || y0 < -1 || x0 >= w || y0 >= h) continue;
      const fx = sx - x0, fy = sy - y0;
      let r = 0, g = 0, b = 0, a = 0;
      for (let k = 0; k < 4; k++) {
        const px = x0 + (k & 1), py = y0 + (k >> 1);
        if (px < 0 || py < 0 || px >= w || py >= h) continue;
        const weight = ((k & 1) ? fx : 1 - fx) * ((k >> 1) ? fy : 1 - fy);
        const i = (py * w + px) * 4;
        const wa = weight * s[i + 3];
        r += s[i] * wa; g += s[i + 1] * wa; b += s[i + 2] * wa; a += wa;
      }
      if (a <= 0) continue;
      const o = (y * ow + x) * 4;
      out[o] = r / a; out[o + 1] = g / a; out[o + 2] = b / a; out[o + 3] = a;
    }
  }
  return { width: ow, height: oh, data: out };
}
