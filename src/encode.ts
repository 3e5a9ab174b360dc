/** RGBA → JPEG, WebP or PNG bytes. */
import { ImgpipeError, describeValue } from './errors.js';
import { FORMATS, outputFormat, type OutputFormat } from './formats.js';
import type { RGBAImage } from './image.js';
import { QUALITY } from './spec.js';

export { flatten } from './image.js';

export interface EncodeOptions {
  /** 1..100. Defaults: JPEG 85, WebP 80 (the upload recipe's). Ignored for PNG. */
  readonly quality?: number;
  /** JPEG: progressive scan (default false: baseline, like sharp). */
  readonly progressive?: boolean;
  /** WebP: lossless. */
  readonly lossless?: boolean;
  /** JPEG: colour that transparent areas are flattened onto, [r, g, b]; default white. */
  readonly background?: readonly [number, number, number];
}

/**
 * Anything with `encode`'s contract. The recipe engine takes one (`ProcessUploadOptions.encoder`), so
 * a runtime can run encodes elsewhere, e.g. on Node worker threads (`createWorkerPool`).
 */
export type Encoder = (image: RGBAImage, format: OutputFormat | string, options?: EncodeOptions) => Promise<Uint8Array>;

export async function encode(image: RGBAImage, format: OutputFormat | string, options: EncodeOptions = {}): Promise<Uint8Array> {
  const f = outputFormat(format);
  const q = options.quality ?? FORMATS[f].defaultQuality ?? 100;
  if (QUALITY.check(q) === undefined) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected ${QUALITY.expected} for encode.quality but received ${describeValue(options.quality)}`);
  }
  const encoder = await FORMATS[f].encode!();
  return encoder(image, { quality: q, progressive: options.progressive === true, lossless: options.lossless === true, background: options.background ?? [255, 255, 255] });
}
