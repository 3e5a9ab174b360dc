/**
 * Placeholders a page paints before any variant has loaded: a ThumbHash (Evan Wallace's `thumbhash`,
 * MIT, plain JavaScript, so the same bytes in every runtime) and the dominant colour. The recipe
 * computes both from its smallest size, which it has in memory anyway, so they cost about a
 * millisecond per upload.
 */
import { rgbaToThumbHash } from 'thumbhash';
import type { RGBAImage } from '../image.js';
import { resize } from './resize.js';

/** ThumbHash reads at most 100x100 px; a larger image would only cost time, not detail. */
const THUMBHASH_SIDE = 100;

/**
 * The image's ThumbHash (about 25 bytes) as base64, e.g. `1QcSHQRnh493V4dIh4eXh1h4kJUI`. A front-end
 * turns it back into a blurred preview with thumbhash's `thumbHashToDataURL(bytes)`. Images over
 * 100 px on a side are first resized (Lanczos3) to fit in 100x100.
 */
export async function thumbhash(image: RGBAImage): Promise<string> {
  const small = image.width > THUMBHASH_SIDE || image.height > THUMBHASH_SIDE
    ? await resize(image, { width: THUMBHASH_SIDE, height: THUMBHASH_SIDE, fit: 'inside' })
    : image;
  const hash = rgbaToThumbHash(small.width, small.height, small.data);
  let binary = '';
  for (const b of hash) binary += String.fromCharCode(b);
  return btoa(binary);
}

/**
 * The most common colour, as CSS `#rrggbb`: sharp's `stats().dominant` rule, a 16x16x16 histogram
 * of the sRGB values whose fullest bin is returned by its centre (`bin * 16 + 8`). Pixels with
 * alpha 0 are left out (their RGB means nothing); an image with no visible pixel gives `#000000`.
 */
export function dominantColor(image: RGBAImage): string {
  const counts = new Uint32Array(4096);
  const d = image.data;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i + 3] === 0) continue;
    counts[((d[i] >> 4) << 8) | ((d[i + 1] >> 4) << 4) | (d[i + 2] >> 4)]++;
  }
  let best = 0;
  for (let bin = 1; bin < counts.length; bin++) if (counts[bin] > counts[best]) best = bin;
  if (counts[best] === 0) return '#000000';
  const centre = (v: number) => ((v & 15) * 16 + 8).toString(16).padStart(2, '0');
  return `#${centre(best >> 8)}${centre(best >> 4)}${centre(best)}`;
}
