/** bytes → upright RGBA, with every limit checked from the header before any pixel is decoded. */
import { ImgpipeError } from './errors.js';
import type { FormatId } from './formats.js';
import { readHeader, type ImageHeader } from './header.js';
import type { RGBAImage } from './image.js';
import { checkByteLimit, checkPixelLimit, resolveLimits, type Limits } from './limits.js';
import { orient } from './ops/orient.js';
import { decodeJpeg } from './codecs/jpeg.js';
import { decodePng } from './codecs/png.js';
import { decodeWebp } from './codecs/webp.js';
import { decodeGif } from './codecs/gif.js';

export interface DecodeOptions {
  /** Override some of the default limits (see `DEFAULT_LIMITS`). */
  readonly limits?: Partial<Limits>;
  /** Apply the EXIF orientation (default true). */
  readonly autoOrient?: boolean;
}

export interface DecodedImage extends RGBAImage {
  /** The sniffed source format. */
  readonly format: FormatId;
  /** The EXIF orientation found in the source (1..8; 1 when absent). */
  readonly orientation: number;
  /** Estimated quality of a JPEG source (1..100), for relative-quality encoding. */
  readonly jpegQuality?: number;
  /** What the source header declared. */
  readonly header: ImageHeader;
}

const DECODERS: Record<FormatId, (bytes: Uint8Array, header: ImageHeader) => Promise<RGBAImage>> = {
  jpeg: decodeJpeg,
  png: decodePng,
  webp: decodeWebp,
  gif: decodeGif,
};

/** Accept the byte containers callers actually have, without copying. */
export function toBytes(input: Uint8Array | ArrayBuffer | ArrayBufferView): Uint8Array {
  if (input instanceof Uint8Array) return input;
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  throw new ImgpipeError('INVALID_ARGUMENT', `Expected image bytes (Uint8Array or ArrayBuffer) but received ${input === null ? 'null' : typeof input}`);
}

/** Read the header and check it against the limits, without decoding. */
export function inspect(input: Uint8Array | ArrayBuffer, limits?: Partial<Limits>): ImageHeader {
  const bytes = toBytes(input);
  const l = resolveLimits(limits);
  checkByteLimit(bytes.byteLength, l);
  const header = readHeader(bytes);
  // Only the first frame of an animation is decoded, so it alone counts against the pixel budget.
  checkPixelLimit(header.width, header.height, 1, l);
  return header;
}

export async function decode(input: Uint8Array | ArrayBuffer, options: DecodeOptions = {}): Promise<DecodedImage> {
  const bytes = toBytes(input);
  const header = inspect(bytes, options.limits);
  let image: RGBAImage;
  try {
    image = await DECODERS[header.format](bytes, header);
  } catch (e) {
    if (e instanceof ImgpipeError) throw e;
    throw new ImgpipeError('CORRUPT_IMAGE', `Expected a decodable ${header.format.toUpperCase()} but decoding failed: ${String((e as Error)?.message ?? e)}`, { cause: e });
  }
  if (options.autoOrient !== false) image = orient(image, header.orientation);
  return Object.freeze({
    width: image.width,
    height: image.height,
    data: image.data,
    format: header.format,
    orientation: header.orientation,
    jpegQuality: header.jpegQuality,
    header,
  });
}
