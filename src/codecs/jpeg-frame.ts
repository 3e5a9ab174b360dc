/**
 * What a JPEG's frame allows, for both of its decoders (`jpeg.ts`, `jpeg-fallback.ts`): the
 * coding processes imgpipe can't decode (named, not called damaged) and the size of a DCT-domain
 * reduction.
 */
import { ImgpipeError } from '../errors.js';
import type { ImageHeader } from '../header.js';

/** The coding processes by start-of-frame marker (ITU T.81 table B.1), for the ones imgpipe can't decode. */
const PROCESSES: Readonly<Record<number, string>> = Object.freeze({
  0xc5: 'hierarchical sequential (SOF5)',
  0xc6: 'hierarchical progressive (SOF6)',
  0xc7: 'hierarchical lossless (SOF7)',
  0xcb: 'arithmetic-coded lossless (SOF11)',
  0xcd: 'hierarchical arithmetic-coded sequential (SOF13)',
  0xce: 'hierarchical arithmetic-coded progressive (SOF14)',
  0xcf: 'hierarchical arithmetic-coded lossless (SOF15)',
});

/** The lossless (SOF3) frame, decoded by `jpeg-lossless.ts` at any precision from 2 to 16 bits. */
export const LOSSLESS_SOF = 0xc3;

/**
 * Valid JPEGs no decoder reads: named, with UNSUPPORTED_FORMAT, rather than called damaged.
 * Debian 12's libjpeg-turbo (2.1.5) reads 12-bit samples only in a build that then reads nothing
 * else; sharp refuses 12-bit too (scripts/build-libjpeg.mjs). Lossless files (SOF3) are decoded by
 * `jpeg-lossless.ts` (libjpeg-turbo 2.1.5 has no lossless decoding) whatever their precision.
 */
export function unsupportedProcess(header: ImageHeader): ImgpipeError | undefined {
  if (header.sof === LOSSLESS_SOF) return undefined;
  const process = header.sof === undefined ? undefined : PROCESSES[header.sof];
  const precision = header.precision ?? 8;
  if (!process && precision === 8) return undefined;
  const what = [process, precision !== 8 ? `${precision}-bit` : undefined].filter(Boolean).join(', ');
  return new ImgpipeError('UNSUPPORTED_FORMAT', `Expected a JPEG imgpipe can decode (8-bit baseline, extended or progressive, Huffman or arithmetic coding, or lossless Huffman-coded at 2-16 bits) but the file is ${what}`, {
    details: { received: `JPEG ${what}` },
  });
}

/** Reduction factors the decoder can apply while decoding (libjpeg's scale_denom). */
export type JpegShrink = 1 | 2 | 4 | 8;

/** The size of a JPEG decoded reduced by `shrink`: rounded up, as libjpeg's scaled output is. */
export function scaledSize(header: Pick<ImageHeader, 'width' | 'height'>, shrink: JpegShrink): { width: number; height: number } {
  return { width: Math.ceil(header.width / shrink), height: Math.ceil(header.height / shrink) };
}
