/**
 * OSS's indexcrop: cut the image into equal slices along one axis and keep one. A slice index past
 * the last slice returns the image unchanged (OSS's documented behaviour, not an error).
 */
import { ImgpipeError, describeValue } from '../errors.js';
import type { RGBAImage } from '../image.js';
import { DEFAULT_LIMITS } from '../limits.js';
import { checkOption, int, type OpParams } from '../spec.js';
import { crop, type Rect } from './crop.js';

/** Slice sizes and indexes up to the largest source side: anything larger can only miss. */
const SLICE = int(1, DEFAULT_LIMITS.maxSide);

export const INDEXCROP_PARAMS = {
  x: { spec: SLICE, doc: 'slice width (vertical cuts)', option: 'size' },
  y: { spec: SLICE, doc: 'slice height (horizontal cuts); wins over x', option: 'size' },
  i: { spec: int(0, DEFAULT_LIMITS.maxSide), doc: 'slice index, 0-based; past the last slice returns the image unchanged', default: 0, option: 'index' },
} as const satisfies OpParams;

export interface IndexCropOptions {
  /** 'x': vertical cuts, slices `size` px wide; 'y': horizontal cuts, slices `size` px tall. */
  readonly axis: 'x' | 'y';
  readonly size: number;
  /** 0-based slice index. */
  readonly index: number;
}

export function indexCrop(image: RGBAImage, options: IndexCropOptions): RGBAImage {
  const { axis } = options;
  if (axis !== 'x' && axis !== 'y') throw new ImgpipeError('INVALID_ARGUMENT', `Expected x or y for indexcrop axis but received ${describeValue(axis)}`);
  const size = checkOption('indexcrop', axis, INDEXCROP_PARAMS[axis], options.size);
  const index = checkOption('indexcrop', 'i', INDEXCROP_PARAMS.i, options.index);
  const total = axis === 'x' ? image.width : image.height;
  if (size > total) throw new ImgpipeError('INVALID_ARGUMENT', sliceTooLarge(axis, total, size));
  const rect = sliceRect(image.width, image.height, axis, size, index);
  return rect ? crop(image, rect) : image;
}

/**
 * The slice indexcrop keeps of a width x height image (checked values); undefined when the image is
 * kept whole (an index past the last slice) or the slice is larger than the image (refused).
 */
export function sliceRect(width: number, height: number, axis: 'x' | 'y', size: number, index: number): Rect | undefined {
  const total = axis === 'x' ? width : height;
  const start = index * size;
  if (size > total || start >= total) return undefined;
  const length = Math.min(size, total - start);
  return axis === 'x' ? { x: start, y: 0, width: length, height } : { x: 0, y: start, width, height: length };
}

/** A slice larger than the image's side along its axis (the image's size, so not a spec's range). */
export function sliceTooLarge(axis: 'x' | 'y', total: number, size: unknown): string {
  return `Expected an integer between 1 and ${total} for indexcrop.${axis} but received ${describeValue(size)}`;
}
