/** EXIF orientation: turn stored pixels into the upright image a viewer shows. */
import { ImgpipeError } from '../errors.js';
import type { RGBAImage } from '../image.js';
import type { Rect } from './crop.js';

/**
 * Apply EXIF orientation `o` (1..8) to `image`. 1 returns the image itself; 5..8 swap width and
 * height. Pixels move as whole 32-bit words, so one pass, no per-channel work.
 */
export function orient(image: RGBAImage, o: number): RGBAImage {
  if (!Number.isInteger(o) || o < 1 || o > 8) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected an EXIF orientation between 1 and 8 for orient but received ${JSON.stringify(o)}`);
  }
  if (o === 1) return image;
  const { width: W, height: H } = image;
  const swap = o >= 5;
  const outW = swap ? H : W, outH = swap ? W : H;
  const src = new Uint32Array(image.data.buffer, image.data.byteOffset, W * H);
  const out = new Uint8ClampedArray(W * H * 4);
  const dst = new Uint32Array(out.buffer);
  // For each output pixel (x, y), the source pixel (sx, sy) = (ax*x + bx*y + cx, ay*x + by*y + cy).
  const [ax, bx, cx, ay, by, cy] = MAPS[o](W, H);
  let i = 0;
  for (let y = 0; y < outH; y++) {
    let sx = bx * y + cx, sy = by * y + cy;
    for (let x = 0; x < outW; x++, i++, sx += ax, sy += ay) dst[i] = src[sy * W + sx];
  }
  return { width: outW, height: outH, data: out };
}

/**
 * The rectangle of the stored `W` x `H` image (before orientation `o`) that becomes the upright
 * rectangle `rect`: orienting that stored rectangle alone gives exactly the upright one, so a decoder
 * can produce just those stored rows and columns (crop-on-load).
 */
export function storedRect(o: number, W: number, H: number, rect: Rect): Rect {
  if (o === 1) return rect;
  const [ax, bx, cx, ay, by, cy] = MAPS[o](W, H);
  const x1 = rect.x + rect.width - 1, y1 = rect.y + rect.height - 1;
  const xs = [ax * rect.x + bx * rect.y + cx, ax * x1 + bx * y1 + cx];
  const ys = [ay * rect.x + by * rect.y + cy, ay * x1 + by * y1 + cy];
  const x = Math.min(...xs), y = Math.min(...ys);
  return { x, y, width: Math.max(...xs) - x + 1, height: Math.max(...ys) - y + 1 };
}

type Map6 = (W: number, H: number) => [number, number, number, number, number, number];
const MAPS: Record<number, Map6> = {
  2: (W) => [-1, 0, W - 1, 0, 1, 0], // mirror horizontally
  3: (W, H) => [-1, 0, W - 1, 0, -1, H - 1], // rotate 180
  4: (_W, H) => [1, 0, 0, 0, -1, H - 1], // mirror vertically
  5: () => [0, 1, 0, 1, 0, 0], // transpose
  6: (_W, H) => [0, 1, 0, -1, 0, H - 1], // rotate 90 clockwise
  7: (W, H) => [0, -1, W - 1, -1, 0, H - 1], // transverse
  8: (W) => [0, -1, W - 1, 1, 0, 0], // rotate 270 clockwise
};
