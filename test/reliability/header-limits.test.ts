/**
 * Resource limits read from the header, before any pixel or metadata block is allocated: animation
 * frame count (GIF, WebP, APNG), EXIF size and ICC profile size (JPEG, PNG, WebP). Each hostile file
 * is built here from a real fixture; each refusal is IMAGE_TOO_LARGE naming the limit, the maximum
 * and the declared value. Every real fixture passes the defaults.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/limits.js';
import { decode, inspect, readHeader } from '../../entries/node.js';
import { image, listImages } from '../helpers/fixtures.js';
import { ascii, concat, jpegSegment, jpegWith, pngChunk, pngWith, u32be, u32le } from '../helpers/bytes.js';

/** A WebP RIFF chunk (padded to even length), and a VP8X file with extra chunks before its first ANMF. */
const webpChunk = (type: string, data: Uint8Array, declared = data.length) => concat(ascii(type), u32le(declared), data, data.length & 1 ? new Uint8Array(1) : new Uint8Array(0));
function webpWith(webp: Uint8Array, ...chunks: Uint8Array[]): Uint8Array {
  // RIFF header (12) + VP8X chunk (18): extra chunks go after VP8X, where ICCP and friends belong.
  const out = concat(webp.subarray(0, 30), ...chunks, webp.subarray(30));
  out.set(u32le(out.length - 8), 4);
  return out;
}

/** A 1x1 GIF with `frames` image descriptors (each a tiny valid frame). */
function gifFrames(frames: number): Uint8Array {
  const head = concat(ascii('GIF89a'), new Uint8Array([1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 255, 255, 255]));
  // Image descriptor, then LZW: min code size 2, one sub-block with clear, 0, end; terminator.
  const frame = new Uint8Array([0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 0x01, 0]);
  const all = new Uint8Array(frames * frame.length);
  for (let i = 0; i < frames; i++) all.set(frame, i * frame.length);
  return concat(head, all, new Uint8Array([0x3b]));
}

const refused = async (bytes: Uint8Array, message: string, limits?: Partial<typeof DEFAULT_LIMITS>) => {
  expect(() => inspect(bytes, limits)).toThrow(expect.objectContaining({ code: 'IMAGE_TOO_LARGE', message }));
  await expect(decode(bytes, { limits })).rejects.toMatchObject({ code: 'IMAGE_TOO_LARGE', message });
};

describe('animation frame count (limits.maxFrames)', () => {
  it('GIF: image descriptors are counted from the block structure', async () => {
    expect(readHeader(image('animated-loop-3.gif')).frames).toBe(10);
    expect(readHeader(gifFrames(10_000)).frames).toBe(10_000);
    expect((await decode(gifFrames(10_000))).width).toBe(1);
    await refused(gifFrames(10_001), 'Expected at most 10000 animation frames (limits.maxFrames) but the image header declares 10001');
    await refused(image('animated-loop-3.gif'), 'Expected at most 9 animation frames (limits.maxFrames) but the image header declares 10', { maxFrames: 9 });
    expect((await decode(image('animated-loop-3.gif'), { limits: { maxFrames: 10 } })).width).toBe(370);
  });

  it('WebP: ANMF chunks are counted', async () => {
    expect(readHeader(image('animated-loop-3.webp')).frames).toBe(10);
    await refused(image('animated-loop-3.webp'), 'Expected at most 9 animation frames (limits.maxFrames) but the image header declares 10', { maxFrames: 9 });
  });

  it('APNG: the frame count acTL declares', async () => {
    const actl = (n: number) => pngChunk('acTL', concat(u32be(n), u32be(0)));
    expect(readHeader(pngWith(image('with-alpha.png'), actl(12))).frames).toBe(12);
    await refused(pngWith(image('with-alpha.png'), actl(4_000_000_000)), 'Expected at most 10000 animation frames (limits.maxFrames) but the image header declares 4000000000');
  });
});

describe('EXIF size (limits.maxExifBytes)', () => {
  const tiff = concat(ascii('MM'), new Uint8Array([0, 42]), u32be(8), new Uint8Array([0, 0]));
  const app1 = (size: number) => jpegSegment(0xe1, concat(ascii('Exif\0\0'), tiff, new Uint8Array(size - tiff.length)));

  it('JPEG: every APP1 Exif segment counts (one is capped at 64 KB, so a bomb repeats them)', async () => {
    const seventeen = Array.from({ length: 17 }, () => app1(65_000));
    const jpeg = jpegWith(image('320x240.jpg'), ...seventeen);
    // The photo's own EXIF block is 11393 bytes.
    expect(readHeader(image('320x240.jpg')).exifBytes).toBe(11_393);
    expect(readHeader(jpeg).exifBytes).toBe(17 * 65_000 + 11_393);
    await refused(jpeg, 'Expected at most 1048576 bytes of EXIF metadata (limits.maxExifBytes) but the image header declares 1116393');
    // Under the limit it decodes as usual.
    expect((await decode(jpegWith(image('320x240.jpg'), app1(65_000)))).width).toBe(320);
  });

  it('PNG: eXIf as declared, even when the file ends before it', async () => {
    const png = pngWith(image('with-alpha.png'), pngChunk('eXIf', tiff, 0x7fff_ffff));
    expect(readHeader(png).exifBytes).toBe(0x7fff_ffff);
    await refused(png, 'Expected at most 1048576 bytes of EXIF metadata (limits.maxExifBytes) but the image header declares 2147483647');
  });

  it('WebP: the EXIF chunk', async () => {
    const webp = webpWith(image('animated-loop-3.webp'), webpChunk('EXIF', new Uint8Array(2_000)));
    expect(readHeader(webp).exifBytes).toBe(2_000);
    await refused(webp, 'Expected at most 1000 bytes of EXIF metadata (limits.maxExifBytes) but the image header declares 2000', { maxExifBytes: 1_000 });
  });
});

describe('ICC profile size (limits.maxIccBytes)', () => {
  it('JPEG: all APP2 ICC_PROFILE chunks together', async () => {
    const chunk = (i: number, n: number) => jpegSegment(0xe2, concat(ascii('ICC_PROFILE\0'), new Uint8Array([i, n]), new Uint8Array(65_000)));
    const jpeg = jpegWith(image('320x240.jpg'), ...Array.from({ length: 130 }, (_, i) => chunk(i + 1, 130)));
    // The photo carries a 3144-byte profile of its own.
    expect(readHeader(image('320x240.jpg')).iccBytes).toBe(3_144);
    expect(readHeader(jpeg).iccBytes).toBe(130 * 65_000 + 3_144);
    await refused(jpeg, 'Expected at most 8388608 bytes of ICC profile (limits.maxIccBytes) but the image header declares 8453144');
    await refused(image('320x240.jpg'), 'Expected at most 3143 bytes of ICC profile (limits.maxIccBytes) but the image header declares 3144', { maxIccBytes: 3_143 });
  });

  it('PNG: iCCP as declared', async () => {
    const png = pngWith(image('with-alpha.png'), pngChunk('iCCP', concat(ascii('icc\0\0'), new Uint8Array(10)), 9_000_000));
    await refused(png, 'Expected at most 8388608 bytes of ICC profile (limits.maxIccBytes) but the image header declares 9000000');
  });

  it('WebP: the ICCP chunk as declared', async () => {
    const webp = webpWith(image('animated-loop-3.webp'), webpChunk('ICCP', new Uint8Array(16), 0xffff_fff0));
    await refused(webp, 'Expected at most 8388608 bytes of ICC profile (limits.maxIccBytes) but the image header declares 4294967280');
  });
});

describe('the defaults', () => {
  it('no real fixture trips them', () => {
    const seen: string[] = [];
    for (const name of listImages()) {
      const h = inspect(image(name));
      seen.push(`${name}: ${h.frames} frames, ${h.exifBytes} B EXIF, ${h.iccBytes} B ICC`);
    }
    console.log(seen.join('\n'));
    expect(seen.length).toBeGreaterThan(20);
  });

  it('are configurable and refuse nonsense like the other limits', () => {
    expect(() => inspect(image('320x240.jpg'), { maxFrames: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: 'Expected a positive integer for limits.maxFrames but received 0' }));
    expect(() => inspect(image('320x240.jpg'), { maxIccBytes: 1.5 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: 'Expected a positive integer for limits.maxIccBytes but received 1.5' }));
  });
});
