import type { FormatInfo } from '../../src/index.js';

/**
 * A toy uncompressed format registered at run time by the tests of `registerFormat`: "TOYRGBA" + width
 * and height (u16 BE) + RGBA rows, written under OSS's name bmp.
 */
export function toyFormat(): FormatInfo {
  const MAGIC = [...'TOYRGBA'].map((c) => c.charCodeAt(0));
  return {
    id: 'toy' as FormatInfo['id'], name: 'Toy', mime: 'image/x-toy', extension: 'toy', extensions: ['toy'],
    oss: { name: 'bmp', aliases: ['bmp'] },
    magic: (b) => MAGIC.every((v, i) => b[i] === v),
    readHeader: (b) => ({ format: 'toy' as FormatInfo['id'], width: (b[7] << 8) | b[8], height: (b[9] << 8) | b[10], frames: 1, exifBytes: 0, iccBytes: 0, orientation: 1, alpha: true }),
    decode: async () => async (bytes, header) => ({ image: { width: header.width, height: header.height, data: new Uint8ClampedArray(bytes.subarray(11)) }, shrink: 1, release: () => undefined }),
    encode: async () => async (img) => {
      const out = new Uint8Array(11 + img.data.length);
      out.set(MAGIC);
      out.set([img.width >> 8, img.width & 255, img.height >> 8, img.height & 255], 7);
      out.set(img.data, 11);
      return out;
    },
    wasm: [],
  };
}
