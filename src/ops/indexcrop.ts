/**
 * OSS's indexcrop: cut the image into equal slices along one axis and keep one. A slice index past
 * the last slice returns the image unchanged (OSS's documented behaviour, not an error).
 */
import { ImgpipeError, describeValue } from '../errors.js';
import type { RGBAImage } from '../image.js';
import { crop } from './crop.js';

export interface IndexCropOptions {
  /** 'x': vertical cuts, slices `size` px wide; 'y': horizontal cuts, slices `size` px tall. */
  readonly axis: 'x' | 'y';
  readonly size: number;
  /** 0-based slice index. */
  readonly index: number;
}

export function indexCrop(image: RGBAImage, options: IndexCropOptions): RGBAImage {
  const { axis, size, index } = options;
  const total = axis === 'x' ? image.width : image.height;
  if (!Number.isInteger(size) || size < 1 || size > total) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected an integer between 1 and ${total} for indexcrop.${axis} but received ${describeValue(size)}`);
  }
  if (!Number.isInteger(index) || index < 0) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected a non-negative integer for indexcrop.i but received ${describeValue(index)}`);
  }
  const start = index * size;
  if (start >= total) return image;
  const length = Math.min(size, total - start);
  return axis === 'x'
    ? crop(image, { x: start, y: 0, width: length, height: image.height })
    : crop(image, { x: 0, y: start, width: image.width, height: length });
}
