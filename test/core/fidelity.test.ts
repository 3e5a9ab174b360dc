/**
 * Files that real uploads contain and that imgpipe once refused or decoded differently from sharp
 * (libjpeg-turbo, libwebp, libnsgif): each built here, small and exact, and judged against sharp's
 * decode of the same bytes or by code and message where imgpipe refuses.
 */
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { decode, inspect, processUpload } from '../../entries/node.js';
import { fixture, image } from '../helpers/fixtures.js';
import { sharpRaw } from '../helpers/compare.js';
import { lzw } from '../helpers/gif.js';

const cat = (...parts: (Uint8Array | number[])[]) => new Uint8Array(parts.flatMap((p) => [...p]));
const refusal = (p: Promise<unknown>) => p.then(() => undefined, (e: { code?: string; message?: string }) => ({ code: e.code, message: e.message }));
const pixels = async (b: Uint8Array, options?: Parameters<typeof decode>[1]) => {
  const d = await decode(b, options);
  return { width: d.width, height: d.height, data: [...d.data] };
};

/** Bits LSB-first, as VP8L packs them. */
function bitsLsb(fields: readonly [value: number, bits: number][]): number[] {
  const out: number[] = [];
  let cur = 0, n = 0;
  for (const [v, bits] of fields) {
    for (let i = 0; i < bits; i++) {
      cur |= ((v >> i) & 1) << n;
      if (++n === 8) { out.push(cur); cur = 0; n = 0; }
    }
  }
  if (n) out.push(cur);
  return out;
}

/**
 * A one-colour 100x100 lossless WebP in 28 bytes: VP8L header, no transform, no colour cache, one
 * prefix-code group of five one-symbol "simple" codes (green, red, blue, alpha, distance), so every
 * pixel takes zero bits.
 */
function tinyVp8l(): Uint8Array {
  const oneSymbol = (s: number): [number, number][] => [[1, 1], [0, 1], [0, 1], [s, 1]];
  const body = [0x2f, ...bitsLsb([[99, 14], [99, 14], [0, 1], [0, 3], [0, 1], [0, 1], [0, 1],
    ...oneSymbol(1), ...oneSymbol(1), ...oneSymbol(0), ...oneSymbol(1), ...oneSymbol(0)])];
  const le32 = (v: number) => [v & 255, (v >> 8) & 255, (v >> 16) & 255, v >>> 24];
  const riff = [...'WEBPVP8L'].map((c) => c.charCodeAt(0));
  return cat([...'RIFF'].map((c) => c.charCodeAt(0)), le32(4 + 8 + body.length), riff.slice(0, 4), riff.slice(4), le32(body.length), body);
}

/** A GIF with neither a global nor a local colour table; a clear code before each index keeps codes 3 bits. */
function gifWithoutPalette(indices: readonly number[]): Uint8Array {
  const codes: [number, number][] = [...indices.flatMap((i): [number, number][] => [[4, 3], [i, 3]]), [5, 3]];
  const w = indices.length;
  return cat([...'GIF89a'].map((c) => c.charCodeAt(0)), [w, 0, 1, 0, 0, 0, 0], [0x2c, 0, 0, 0, 0, w, 0, 1, 0, 0], lzw(2, codes), [0x3b]);
}

/** An 8x8 grey JPEG with one flat block (all samples 128), in the given process and precision. */
function flatJpeg(sof: number, precision: number): Uint8Array {
  const seg = (m: number, body: number[]) => [0xff, m, (body.length + 2) >> 8, (body.length + 2) & 255, ...body];
  const lossless = sof === 0xc3;
  const oneCode = (tc: number) => seg(0xc4, [tc, 1, ...new Array(15).fill(0), 0]);
  return cat(
    [0xff, 0xd8],
    lossless ? [] : seg(0xdb, [precision > 8 ? 0x10 : 0, ...new Array(64).fill(precision > 8 ? [0, 1] : [1]).flat()]),
    seg(sof, [precision, 0, 8, 0, 8, 1, 1, 0x11, 0]),
    oneCode(0x00),
    lossless ? [] : oneCode(0x10),
    // Lossless: predictor 1, every difference 0 (64 one-bit codes); DCT: DC difference 0 and EOB.
    seg(0xda, [1, 1, 0x00, lossless ? 1 : 0, lossless ? 0 : 63, 0]),
    lossless ? new Array(8).fill(0) : [0x3f],
    [0xff, 0xd9],
  );
}

describe('WebP', () => {
  it('a 28-byte one-colour lossless WebP decodes as sharp decodes it', async () => {
    const b = tinyVp8l();
    expect(b.length).toBe(28);
    expect(inspect(b)).toMatchObject({ format: 'webp', width: 100, height: 100 });
    const ours = await decode(b);
    const ref = await sharpRaw(b);
    expect([ours.width, ours.height]).toEqual([100, 100]);
    // The header's alpha hint is clear: opaque, whatever the alpha code says (libvips decodes it so).
    expect([...ours.data.subarray(0, 4)]).toEqual([1, 1, 0, 255]);
    expect(Buffer.from(ours.data).equals(Buffer.from(ref.data))).toBe(true);
  });

  it('a WebP too short for any header is refused with its length', async () => {
    expect(await refusal(decode(tinyVp8l().subarray(0, 24)))).toEqual({
      code: 'CORRUPT_IMAGE', message: 'Expected a valid WebP header but it is only 24 bytes long (a WebP header takes at least 25)',
    });
  });

  it('an animation with a damaged later frame is refused, naming the frame, as sharp refuses it', async () => {
    const b = image('animated-loop-3.webp').slice();
    // The second ANMF chunk's bitstream signature.
    let o = 12, n = 0, at = -1;
    while (o + 8 <= b.length) {
      const type = String.fromCharCode(...b.subarray(o, o + 4)), len = new DataView(b.buffer).getUint32(o + 4, true);
      if (type === 'ANMF' && ++n === 2) { at = o + 24; break; }
      o += 8 + len + (len & 1);
    }
    expect(at).toBeGreaterThan(0);
    if (String.fromCharCode(...b.subarray(at, at + 4)) === 'ALPH') at += 8 + new DataView(b.buffer).getUint32(at + 4, true);
    const kind = String.fromCharCode(...b.subarray(at, at + 4));
    b[at + 8 + (kind === 'VP8L' ? 0 : 3)] ^= 0xff;
    expect((await decode(image('animated-loop-3.webp'))).width).toBeGreaterThan(0);
    const err = await refusal(decode(b));
    expect(err?.code).toBe('CORRUPT_IMAGE');
    expect(err?.message).toBe(`Expected every frame of the animated WebP to be well-formed but frame 2 has a ${kind.trim()} bitstream without its ${kind === 'VP8L' ? 'signature' : 'start code'}`);
    await expect(sharp(b).raw().toBuffer()).rejects.toThrow();
  });
});

describe('GIF', () => {
  it('without any colour table: libnsgif\'s default table (0 black, 1 white, the rest black), as sharp decodes it', async () => {
    const b = gifWithoutPalette([0, 1, 2, 3]);
    const ours = await pixels(b);
    expect(ours.data).toEqual([0, 0, 0, 255, 255, 255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 255]);
    expect(ours.data).toEqual([...(await sharpRaw(b)).data]);
  });

  it('a file cut off inside its block structure is refused with a message of its own, never a TypeError\'s', async () => {
    const b = gifWithoutPalette([0]);
    expect(await refusal(decode(cat(b.subarray(0, 13), [0x21])))).toEqual({
      code: 'CORRUPT_IMAGE', message: 'Expected a decodable GIF but its block structure is cut off or malformed (14 bytes received)',
    });
  });
});

describe('JPEG processes imgpipe does not decode are named, not called damaged', () => {
  it.each([
    ['12-bit', () => flatJpeg(0xc1, 12), '12-bit'],
    ['hierarchical lossless', () => flatJpeg(0xc7, 8), 'hierarchical lossless (SOF7)'],
  ])('%s → UNSUPPORTED_FORMAT', async (_, make, what) => {
    expect(await refusal(decode(make()))).toEqual({
      code: 'UNSUPPORTED_FORMAT',
      message: `Expected a JPEG imgpipe can decode (8-bit baseline, extended or progressive, Huffman or arithmetic coding, or lossless Huffman-coded at 2-16 bits) but the file is ${what}`,
    });
  });

  it('lossless (SOF3) files decode (src/codecs/jpeg-lossless.ts; Debian\'s libjpeg-turbo 2.1.5 has none), to sharp\'s pixels', async () => {
    const b = flatJpeg(0xc3, 8);
    const ref = await sharpRaw(b);
    const ours = await pixels(b);
    expect([ours.width, ours.height]).toEqual([ref.width, ref.height]);
    expect(ours.data).toEqual([...ref.data]);
  });

  it('arithmetic-coded files decode (libjpeg-turbo), to sharp\'s pixels', async () => {
    const b = fixture('jpegdec/arithmetic-37x21.jpg');
    const ref = await sharpRaw(b);
    const ours = await pixels(b);
    expect([ours.width, ours.height]).toEqual([ref.width, ref.height]);
    expect(ours.data).toEqual([...ref.data]);
  });

  it('the hand-built files are valid: the 8-bit baseline one decodes, to 128 grey, as in sharp', async () => {
    const b = flatJpeg(0xc0, 8);
    expect((await pixels(b)).data.slice(0, 4)).toEqual([128, 128, 128, 255]);
    expect([...(await sharpRaw(flatJpeg(0xc3, 8))).data.subarray(0, 3)]).toEqual([128, 128, 128]);
  });
});

describe('failOn: recoverable JPEG damage, as sharp decides it', () => {
  const jpeg = () => image('320x240.jpg');
  const scans = (b: Uint8Array) => b.reduce<number[]>((s, v, i) => (v === 0xff && b[i + 1] === 0xda ? [...s, i] : s), []);
  const intact = () => pixels(jpeg());

  it('extraneous bytes before a header marker: refused by default (as sharp), decoded from failOn error down', async () => {
    const b = jpeg();
    const second = 4 + ((b[4] << 8) | b[5]);
    const damaged = cat(b.subarray(0, second), [1, 2, 3], b.subarray(second));
    const marker = damaged[second + 4].toString(16).toUpperCase();
    expect(await refusal(decode(damaged))).toEqual({
      code: 'CORRUPT_IMAGE',
      message: `Expected a valid JPEG header but found 3 extraneous bytes before marker 0xFF${marker} at offset ${second} (decoded with failOn 'error' or lower)`,
    });
    await expect(sharp(damaged).raw().toBuffer()).rejects.toThrow(/extraneous bytes/);
    for (const failOn of ['error', 'truncated', 'none'] as const) expect(await pixels(damaged, { failOn })).toEqual(await intact());
  });

  it('FF 00 where a header marker belongs is extraneous data, not a segment: refused by default (as sharp), decoded from failOn error down', async () => {
    const b = jpeg();
    const second = 4 + ((b[4] << 8) | b[5]);
    const damaged = cat(b.subarray(0, second), [0xff, 0x00, 0x00, 0x02], b.subarray(second));
    const marker = damaged[second + 5].toString(16).toUpperCase();
    expect(await refusal(decode(damaged))).toEqual({
      code: 'CORRUPT_IMAGE',
      message: `Expected a valid JPEG header but found 4 extraneous bytes before marker 0xFF${marker} at offset ${second} (decoded with failOn 'error' or lower)`,
    });
    await expect(sharp(damaged).raw().toBuffer()).rejects.toThrow(/4 extraneous bytes/);
    expect(await pixels(damaged, { failOn: 'error' })).toEqual(await intact());
  });

  it('bytes between the image data and EOI change no pixel: decoded at every level, as sharp does', async () => {
    const b = jpeg();
    const damaged = cat(b.subarray(0, b.length - 2), [1, 2, 3], [0xff, 0xd9]);
    expect(await pixels(damaged)).toEqual(await intact());
    expect((await sharpRaw(damaged)).width).toBe(320);
  });

  it('no EOI: refused by default, with truncated and with error (as sharp), decoded with none', async () => {
    const cut = jpeg().subarray(0, jpeg().length - 2);
    for (const failOn of [undefined, 'warning', 'error', 'truncated'] as const) {
      expect(await refusal(decode(cut, { failOn }))).toEqual({
        code: 'CORRUPT_IMAGE', message: `Expected a complete JPEG but the file is truncated: no end-of-image marker after the image data (${cut.length} bytes received)`,
      });
    }
    await expect(sharp(cut, { failOn: 'truncated' }).raw().toBuffer()).rejects.toThrow(/premature end/);
    expect(await pixels(cut, { failOn: 'none' })).toEqual(await intact());
    expect(inspect(cut, undefined, 'none')).toMatchObject({ truncated: true });
  });

  it('a progressive JPEG whose last scans are missing decodes by default, to sharp\'s pixels', async () => {
    const prog = fixture('jpegdec/progressive-203x117.jpg');
    const s = scans(prog);
    const partial = cat(prog.subarray(0, s[s.length - 2]), [0xff, 0xd9]);
    const ours = await decode(partial);
    const ref = await sharpRaw(partial);
    expect([ours.width, ours.height]).toEqual([ref.width, ref.height]);
    let worst = 0;
    for (let i = 0; i < ref.data.length; i++) worst = Math.max(worst, Math.abs(ours.data[i] - ref.data[i]));
    // MozJPEG and libjpeg-turbo 3 share the progressive decoder and its block smoothing.
    expect(worst).toBeLessThanOrEqual(1);
  });

  it('a scan cut short (EOI after half its data): refused by default, decoded from error down, as sharp', async () => {
    const prog = fixture('jpegdec/progressive-203x117.jpg');
    const s = scans(prog);
    const damaged = cat(prog.subarray(0, (s[s.length - 1] + prog.length) >> 1), [0xff, 0xd9]);
    expect(await refusal(decode(damaged))).toEqual({
      code: 'CORRUPT_IMAGE', message: 'Expected a decodable JPEG but the decoder reported: Corrupt JPEG data: premature end of data segment',
    });
    await expect(sharp(damaged).raw().toBuffer()).rejects.toThrow(/premature end/);
    const lenient = await decode(damaged, { failOn: 'error' });
    const ref = await sharpRaw(sharp(damaged, { failOn: 'error' }));
    let worst = 0;
    for (let i = 0; i < ref.data.length; i++) worst = Math.max(worst, Math.abs(lenient.data[i] - ref.data[i]));
    expect(worst).toBeLessThanOrEqual(1);
  });

  it('an unknown level is refused, in decode and in a recipe', async () => {
    const message = 'Expected one of none, truncated, error, warning for failOn but received "warnings"';
    expect(await refusal(decode(jpeg(), { failOn: 'warnings' as never }))).toEqual({ code: 'INVALID_ARGUMENT', message });
    expect(await refusal(processUpload(jpeg(), { key: 'a.jpg', recipe: { sizes: [{ name: 's', width: 100, watermark: false }], outputs: [{ format: 'jpeg', quality: 80, key: '{size}/{name}.jpg' }], failOn: 'warnings' as never } }))).toEqual({
      code: 'INVALID_ARGUMENT', message: message.replace('for failOn', 'for recipe.failOn'),
    });
  });

  it('the recipe passes its level to the decode', async () => {
    const b = jpeg();
    const second = 4 + ((b[4] << 8) | b[5]);
    const damaged = cat(b.subarray(0, second), [1, 2, 3], b.subarray(second));
    // Full-size decodes on both sides: the damaged file takes the fallback decoder, which has no DCT scaling.
    const recipe = { sizes: [{ name: 's', width: 100, watermark: false }], outputs: [{ format: 'jpeg' as const, quality: 80, key: '{size}/{name}.jpg' }], fastShrinkOnLoad: false };
    expect((await refusal(processUpload(damaged, { key: 'a.jpg', recipe })))?.code).toBe('CORRUPT_IMAGE');
    const variants = await processUpload(damaged, { key: 'a.jpg', recipe: { ...recipe, failOn: 'error' } });
    const clean = await processUpload(b, { key: 'a.jpg', recipe });
    expect(Buffer.from(variants[0].bytes).equals(Buffer.from(clean[0].bytes))).toBe(true);
  });
});
