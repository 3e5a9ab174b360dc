/**
 * Rectangular crop, and OSS's way of placing the rectangle: an anchor cell of a 3x3 grid plus x/y
 * offsets measured inward from that anchor.
 */
import { ImgpipeError } from '../errors.js';
import type { RGBAImage } from '../image.js';
import { DEFAULT_LIMITS } from '../limits.js';
import { checkOption, gravity, gravityCell, int, type Gravity, type OpParams } from '../spec.js';

export type { Gravity };

/** Sizes and offsets up to the largest source side. */
const EXTENT = int(0, DEFAULT_LIMITS.maxSide);

/** OSS's anchored crop: the parameters `anchoredRect` takes, shared with the x-oss-process action. */
export const CROP_PARAMS = {
  w: { spec: EXTENT, doc: 'crop width (default: to the edge; clamped to the image)' },
  h: { spec: EXTENT, doc: 'crop height (default: to the edge; clamped to the image)' },
  x: { spec: EXTENT, doc: 'horizontal offset from the anchor', default: 0 },
  y: { spec: EXTENT, doc: 'vertical offset from the anchor', default: 0 },
  g: { spec: gravity, doc: 'anchor cell of a 3x3 grid', default: 'nw' },
} as const satisfies OpParams;

export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Copy `rect` out of `image`. The rectangle must lie inside the image. */
export function crop(image: RGBAImage, rect: Rect): RGBAImage {
  const { x, y, width, height } = rect;
  const inside = Number.isInteger(x) && Number.isInteger(y) && Number.isInteger(width) && Number.isInteger(height) &&
    x >= 0 && y >= 0 && width >= 1 && height >= 1 && x + width <= image.width && y + height <= image.height;
  if (!inside) {
    throw new ImgpipeError(
      'INVALID_ARGUMENT',
      `Expected a crop rectangle inside the ${image.width}x${image.height} image but received ${width}x${height} at (${x}, ${y})`,
    );
  }
  if (x === 0 && y === 0 && width === image.width && height === image.height) return image;
  const out = new Uint8ClampedArray(width * height * 4);
  const rowBytes = width * 4;
  for (let row = 0; row < height; row++) {
    const from = ((y + row) * image.width + x) * 4;
    out.set(image.data.subarray(from, from + rowBytes), row * rowBytes);
  }
  return { width, height, data: out };
}

export interface AnchoredCrop {
  /** Crop size; undefined or 0 means "to the edge". */
  readonly w?: number;
  readonly h?: number;
  /** Offsets from the anchor, measured inward (for se, x moves left and y moves up). */
  readonly x?: number;
  readonly y?: number;
  readonly g?: Gravity;
}

/**
 * Where OSS's `crop` lands on a width x height image. Undefined when the start point falls outside
 * the image (OSS answers "Advance cut's position is out of image."); the size is clamped to the edge.
 */
export function anchoredRect(width: number, height: number, spec: AnchoredCrop): Rect | undefined {
  const p = CROP_PARAMS;
  const sw = spec.w === undefined ? undefined : checkOption('crop', 'w', p.w, spec.w);
  const sh = spec.h === undefined ? undefined : checkOption('crop', 'h', p.h, spec.h);
  const w = sw ? Math.min(sw, width) : undefined;
  const h = sh ? Math.min(sh, height) : undefined;
  const { col, row } = gravityCell(checkOption('crop', 'g', p.g, spec.g));
  const x0 = axisStart(col, width, w, checkOption('crop', 'x', p.x, spec.x));
  const y0 = axisStart(row, height, h, checkOption('crop', 'y', p.y, spec.y));
  if (x0 < 0 || y0 < 0 || x0 >= width || y0 >= height) return undefined;
  return { x: x0, y: y0, width: Math.min(w ?? width - x0, width - x0), height: Math.min(h ?? height - y0, height - y0) };
}

// 0: from the start edge; 1: centred; 2: from the end edge. Offsets always point into the image.
function axisStart(cell: number, total: number, size: number | undefined, offset: number): number {
  if (cell === 0) return offset;
  const extent = size ?? total;
  if (cell === 1) return Math.floor((total - extent) / 2) + offset;
  return total - extent - offset;
}
