/**
 * Place an image on a larger canvas filled with one colour (resize's m_pad). The image is centred;
 * OSS does the same.
 */
import { ImgpipeError } from '../errors.js';
import { createImage, type RGBAImage } from '../image.js';

export function extend(image: RGBAImage, width: number, height: number, rgba: number): RGBAImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < image.width || height < image.height) {
    throw new ImgpipeError(
      'INVALID_ARGUMENT',
      `Expected a canvas at least ${image.width}x${image.height} to extend onto but received ${width}x${height}`,
    );
  }
  if (width === image.width && height === image.height) return image;
  const out = createImage(width, height, rgba);
  const left = Math.floor((width - image.width) / 2), top = Math.floor((height - image.height) / 2);
  const rowBytes = image.width * 4;
  for (let y = 0; y < image.height; y++) {
    out.data.set(image.data.subarray(y * rowBytes, (y + 1) * rowBytes), ((top + y) * width + left) * 4);
  }
  return out;
}
