/** The logo of an image watermark: decoded if given as bytes, scaled with the core's Lanczos3 resize. */
import { decode } from '../decode.js';
import type { RGBAImage } from '../image.js';
import { resize } from './resize.js';

/**
 * The logo as RGBA, `percent` of `mainWidth` wide when given (aspect ratio kept; OSS's `P`, which
 * may enlarge a small logo), else at its own size. Bytes go through the normal decoder, so the
 * usual limits and errors (UNSUPPORTED_FORMAT, CORRUPT_IMAGE, IMAGE_TOO_LARGE) apply to logos too.
 */
export async function loadLogo(image: RGBAImage | Uint8Array | ArrayBuffer, mainWidth: number, percent: number | undefined): Promise<RGBAImage> {
  const logo = image instanceof Uint8Array || image instanceof ArrayBuffer ? await decode(image) : image;
  if (percent === undefined) return logo;
  const width = Math.max(1, Math.round((mainWidth * percent) / 100));
  if (width === logo.width) return logo;
  return resize(logo, { width, enlarge: true });
}
