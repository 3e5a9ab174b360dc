/**
 * How much damage a decode tolerates: sharp's `failOn`, with the same four levels and the same
 * default. Each level refuses what the levels before it refuse, and more:
 * - `none`: decode whatever can be decoded (a JPEG cut off without its end marker is decoded, the
 *   missing part grey, as libjpeg fills it);
 * - `truncated`: refuse a file that ends early (no end-of-image marker, data running out);
 * - `error`: also refuse what libjpeg calls an error; decode through what it calls a warning
 *   (a bad Huffman code, a data segment that ends early, extraneous bytes before a marker);
 * - `warning` (the default, as sharp's): refuse any damage a decoder reports.
 * Damage no decoder reports is never refused: a progressive JPEG whose last scans are missing (libjpeg
 * shows the coarser image, smoothed) and extraneous bytes after the last row of image data.
 * Only JPEG decoding has recoverable damage; PNG, WebP and GIF damage is refused at every level but
 * `none` cannot make their decoders go on either (see README, "Damaged files").
 */
import { ImgpipeError, describeValue } from './errors.js';

export type FailOn = 'none' | 'truncated' | 'error' | 'warning';

export const FAIL_ON_LEVELS: readonly FailOn[] = Object.freeze(['none', 'truncated', 'error', 'warning']);

export const DEFAULT_FAIL_ON: FailOn = 'warning';

/** The level, checked (undefined is the default). */
export function failOnLevel(value: unknown, name = 'failOn'): FailOn {
  if (value === undefined) return DEFAULT_FAIL_ON;
  if (typeof value === 'string' && (FAIL_ON_LEVELS as readonly string[]).includes(value)) return value as FailOn;
  throw new ImgpipeError('INVALID_ARGUMENT', `Expected one of ${FAIL_ON_LEVELS.join(', ')} for ${name} but received ${describeValue(value)}`);
}

/** Whether `level` refuses damage of this kind (`truncated` < `error` < `warning`). */
export function refuses(level: FailOn, kind: Exclude<FailOn, 'none'>): boolean {
  return FAIL_ON_LEVELS.indexOf(level) >= FAIL_ON_LEVELS.indexOf(kind);
}
