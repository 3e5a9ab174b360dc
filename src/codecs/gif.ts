/** GIF, first frame, through omggif (pure JS: GIF is small and rare enough not to need WASM). */
import { GifReader } from 'omggif';
import { ImgpipeError } from '../errors.js';
import { createImage, type RGBAImage } from '../image.js';
import type { ImageHeader } from '../header.js';
import { codecMessage } from './instance.js';

export async function decodeGif(bytes: Uint8Array, header: ImageHeader): Promise<RGBAImage> {
  try {
    const reader = new GifReader(bytes);
    const image = createImage(header.width, header.height);
    reader.decodeAndBlitFrameRGBA(0, image.data as unknown as Uint8Array);
    return image;
  } catch (e) {
    throw new ImgpipeError('CORRUPT_IMAGE', `Expected a decodable GIF but the decoder failed: ${codecMessage(e)}`, { cause: e });
  }
}
