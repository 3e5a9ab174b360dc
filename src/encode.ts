/** RGBA → JPEG, WebP or PNG bytes. */
import { ImgpipeError, describeValue } from './errors.js';
import { FORMATS, outputFormat, type OutputFormat } from './formats.js';
import { hasAlpha, type RGBAImage } from './image.js';
import type { RowHelper } from './decode.js';
import { encodeJpeg } from './codecs/jpeg-encode.js';
import { encodePng } from './codecs/png.js';
import { encodeWebp } from './codecs/webp.js';

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

/**
 * An Encoder whose threads can also make a band of the recipe's largest size (`createWorkerPool`'s
 * `encode`): the recipe then shares that decode and resize with an idle one (`decodeResized`).
 */
export type PooledEncoder = Encoder & { readonly rows?: RowHelper };

export async function encode(image: RGBAImage, format: OutputFormat | string, options: EncodeOptions = {}): Promise<Uint8Array> {
  const f = outputFormat(format);
  const q = options.quality ?? FORMATS[f].defaultQuality ?? 100;
  if (!Number.isInteger(q) || q < 1 || q > 100) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected an integer between 1 and 100 for encode.quality but received ${describeValue(options.quality)}`);
  }
  if (f === 'jpeg') {
    const flat = hasAlpha(image) ? flatten(image, options.background ?? [255, 255, 255]) : image;
    return encodeJpeg(flat, { quality: q, progressive: options.progressive === true });
  }
  if (f === 'webp') return encodeWebp(image, { quality: q, lossless: options.lossless === true });
  return encodePng(image);
}

/** Composite onto an opaque background (JPEG has no alpha: transparent must not turn black). */
export function flatten(image: RGBAImage, [br, bg, bb]: readonly [number, number, number]): RGBAImage {
  const src = image.data;
  const out = new Uint8ClampedArray(src.length);
  for (let i = 0; i < src.length; i += 4) {
    const a = src[i + 3], ia = 255 - a;
    out[i] = (src[i] * a + br * ia + 127) / 255;
    out[i + 1] = (src[i + 1] * a + bg * ia + 127) / 255;
    out[i + 2] = (src[i + 2] * a + bb * ia + 127) / 255;
    out[i + 3] = 255;
  }
  return { width: image.width, height: image.height, data: out };
}
