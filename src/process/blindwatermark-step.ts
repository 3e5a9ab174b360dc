/**
 * The x-oss-process steps `blindwatermark` and `deblindwatermark` (IMM's EncodeBlindWatermark and
 * DecodeBlindWatermark), over src/ops/blind-watermark.ts. OSS keeps IDs of long texts for the caller; here
 * the caller's registry does: `register` stores what an ID stands for, `resolve` reads it back.
 */
import type { RGBAImage } from '../image.js';
import { embedBlindWatermark, extractBlindWatermark, type BlindWatermarkStrength } from '../ops/blind-watermark.js';
import { processError } from './oss-error.js';
import { isImgpipeError } from '../errors.js';

export interface BlindWatermarkProcessOptions {
  /** The secret key; the documented default key otherwise. */
  readonly key?: string;
  /** Records that `id` stands for `content` (content over 8 bytes is refused without it). */
  readonly register?: (id: string, content: string) => void | Promise<void>;
  /** Turns an embedded ID back into its text. */
  readonly resolve?: (id: string) => string | undefined | Promise<string | undefined>;
}

export async function runBlindWatermark(
  image: RGBAImage,
  params: { readonly content?: string; readonly s: BlindWatermarkStrength },
  options: BlindWatermarkProcessOptions = {},
): Promise<RGBAImage> {
  try {
    const marked = await embedBlindWatermark(image, {
      content: params.content!, strength: params.s, key: options.key, longContent: options.register ? 'id' : 'refuse',
    });
    if (marked.id !== undefined) await options.register!(marked.id, params.content!);
    return { width: marked.width, height: marked.height, data: marked.data };
  } catch (e) {
    if (isImgpipeError(e, 'INVALID_ARGUMENT')) throw processError('INVALID_ARGUMENT', 'InvalidArgument', e.message, { action: 'blindwatermark' });
    throw e;
  }
}

export async function readBlindWatermark(image: RGBAImage, options: BlindWatermarkProcessOptions = {}): Promise<Record<string, unknown>> {
  const r = await extractBlindWatermark(image, { key: options.key, resolve: options.resolve });
  return r.found
    ? { found: true, ...(r.content !== undefined ? { content: r.content } : {}), ...(r.id !== undefined ? { id: r.id } : {}), confidence: Math.round(r.confidence * 1000) / 1000 }
    : { found: false };
}
