/** Building files byte by byte, for tests that craft hostile or unusual inputs from real fixtures. */
import { crc32 } from 'node:zlib';

export const concat = (...parts: readonly Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
};
export const ascii = (s: string) => new TextEncoder().encode(s);
export const u32be = (n: number) => new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
export const u32le = (n: number) => new Uint8Array([n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24]);

/** A PNG chunk with its CRC. `declared` overrides the length field (a chunk claiming more than it has). */
export function pngChunk(type: string, data: Uint8Array, declared = data.length): Uint8Array {
  const body = concat(ascii(type), data);
  return concat(u32be(declared), body, u32be(crc32(body) >>> 0));
}
/** Insert chunks right after IHDR (signature 8 + IHDR 25 bytes). */
export const pngWith = (png: Uint8Array, ...chunks: Uint8Array[]) => concat(png.subarray(0, 33), ...chunks, png.subarray(33));

/** A JPEG segment; `payload` excludes the marker and length. */
export const jpegSegment = (marker: number, payload: Uint8Array) => concat(new Uint8Array([0xff, marker, (payload.length + 2) >> 8, (payload.length + 2) & 255]), payload);
/** Insert segments right after SOI. */
export const jpegWith = (jpeg: Uint8Array, ...segments: Uint8Array[]) => concat(jpeg.subarray(0, 2), ...segments, jpeg.subarray(2));

/** Offset of the first ISOBMFF box of `type` (its four type bytes) at or after `from` (HEIC, AVIF). */
export function boxAt(b: Uint8Array, type: string, from = 0): number {
  for (let i = from; i + 4 <= b.length; i++) if (String.fromCharCode(b[i], b[i + 1], b[i + 2], b[i + 3]) === type) return i;
  throw new Error(`no ${type} box`);
}
export const setU32 = (b: Uint8Array, o: number, v: number) => new DataView(b.buffer, b.byteOffset).setUint32(o, v);
export const setU16 = (b: Uint8Array, o: number, v: number) => new DataView(b.buffer, b.byteOffset).setUint16(o, v);
