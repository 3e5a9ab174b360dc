/**
 * A deterministic slice of the fuzz harness (bench/fuzz.ts; `npm run fuzz` runs the full set):
 * every hostile input must end as `ok` or a typed ImgpipeError, within the per-case bound, and the
 * codecs must still produce exactly the same output on the good images afterwards.
 */
import { describe, expect, it } from 'vitest';
import { loadCorpus, makeCase, runFuzz, runIsolated, segments, sweepCases } from '../../bench/fuzz.js';
import { createImage, decode, encode, isImgpipeError } from '../../entries/node.js';
import { image } from '../helpers/fixtures.js';
import { lzw } from '../helpers/gif.js';

const CASES = 1000;
const SEED = 20261122;

describe('fuzz harness', () => {
  it('derives the same case from the same seed and index, and different cases otherwise', () => {
    const a = makeCase(SEED, 42), b = makeCase(SEED, 42), c = makeCase(SEED + 1, 42);
    expect(b.mutation).toBe(a.mutation);
    expect(b.bytes).toEqual(a.bytes);
    expect(`${c.source} ${c.mutation}`).not.toBe(`${a.source} ${a.mutation}`);
  });

  it('splits files at their real segment boundaries', () => {
    const jpeg = segments(image('320x240.jpg'));
    expect(jpeg[0]).toEqual({ start: 0, end: 2, kind: 'SOI' });
    expect(jpeg.map((s) => s.kind)).toEqual(expect.arrayContaining(['FFDB', 'FFC0', 'FFC4', 'SOS', 'scan']));
    const png = segments(image('with-alpha.png'));
    expect(png.map((s) => s.kind).slice(0, 2)).toEqual(['signature', 'IHDR']);
    expect(png.at(-1)!.kind).toBe('IEND');
    // Segments tile the file: each starts where the previous ended.
    for (const segs of [jpeg, png, segments(image('animated-loop-3.webp'))]) {
      for (let i = 1; i < segs.length; i++) expect(segs[i].start).toBe(segs[i - 1].end);
    }
  });

  it('the sweep cuts every fixture at 33, 66 and 99% and flips 8 bytes mid-file', () => {
    const sweep = sweepCases();
    const { names, files } = loadCorpus();
    expect(sweep.length).toBe(names.length * 4);
    const first = files.get(names[0])!;
    expect(sweep.slice(0, 4).map((c) => c.mutation)).toEqual([
      `truncate 33%@${Math.floor(first.length * 0.33)}`, `truncate 66%@${Math.floor(first.length * 0.66)}`,
      `truncate 99%@${Math.floor(first.length * 0.99)}`, `flip 8 bytes@${first.length >> 1}`,
    ]);
    const flipped = sweep[3].bytes, mid = first.length >> 1;
    expect([...flipped.subarray(mid, mid + 8)]).toEqual([...first.subarray(mid, mid + 8)].map((v) => v ^ 0xff));
  });

  it('the sweep over every fixture: no escapes, no hangs, no crashes, codecs intact', async () => {
    const summary = await runFuzz({ cases: 0, seed: SEED, timeoutMs: 5000, sweep: true });
    console.log(`fuzz sweep: ${JSON.stringify(summary.outcomes)}; ${summary.codecCheck}`);
    expect(summary.escapes).toEqual([]);
    expect(summary.hangs).toEqual([]);
    expect(summary.crashes).toEqual([]);
    expect(summary.codecsIntact).toBe(true);
    expect(summary.outcomes.CORRUPT_IMAGE).toBeGreaterThan(50);
  }, 300_000);

  it(`${CASES} hostile inputs: no escapes, no hangs, no crashes, codecs intact`, async () => {
    const summary = await runFuzz({ cases: CASES, seed: SEED, timeoutMs: 2000 });
    console.log(`fuzz seed ${SEED}: ${JSON.stringify(summary.outcomes)}; ${summary.codecCheck}`);
    expect(summary.escapes).toEqual([]);
    expect(summary.hangs).toEqual([]);
    expect(summary.crashes).toEqual([]);
    expect(summary.codecsIntact).toBe(true);
    // The mutations must actually reach the decoders and the limits, not only the sniffer.
    expect(summary.outcomes.ok).toBeGreaterThan(10);
    expect(summary.outcomes.CORRUPT_IMAGE).toBeGreaterThan(50);
    expect(summary.outcomes.IMAGE_TOO_LARGE).toBeGreaterThan(5);
    expect(summary.outcomes.UNSUPPORTED_FORMAT).toBeGreaterThan(0);
  });
});

describe('hostile inputs refused with typed errors', () => {
  const expectError = async (bytes: Uint8Array, code: string, message: RegExp) => {
    const e = await decode(bytes).then(() => undefined, (err: unknown) => err);
    expect(isImgpipeError(e), `expected an ImgpipeError, got ${String(e)}`).toBe(true);
    expect((e as { code: string }).code).toBe(code);
    expect((e as Error).message).toMatch(message);
  };

  it('0- and 1-byte files', async () => {
    await expectError(new Uint8Array(0), 'UNSUPPORTED_FORMAT', /received 0 bytes/);
    await expectError(new Uint8Array([0xff]), 'UNSUPPORTED_FORMAT', /received 1 bytes starting/);
  });

  it('a PNG whose IHDR declares 4 gigapixels is refused from the header', async () => {
    const png = image('with-alpha.png').slice();
    new DataView(png.buffer).setUint32(16, 65_535);
    new DataView(png.buffer).setUint32(20, 65_535);
    await expectError(png, 'IMAGE_TOO_LARGE', /at most 30000 px \(limits\.maxSide\) but the image header declares 65535x65535/);
  });

  it('a JPEG whose frame header declares 0 rows', async () => {
    const jpeg = image('320x240.jpg').slice();
    const sof = segments(jpeg).find((s) => s.kind === 'FFC0')!;
    new DataView(jpeg.buffer).setUint16(sof.start + 5, 0);
    await expectError(jpeg, 'CORRUPT_IMAGE', /declares 320x0 pixels/);
  });
});

/** A 4-pixel-wide two-colour GIF (4 rows unless told) around the given image data. */
function gif(data: Uint8Array, height = 4): Uint8Array {
  const head = [...new TextEncoder().encode('GIF89a'), 4, 0, height, 0, 0x80, 0, 0, 0, 0, 0, 255, 255, 255];
  const descriptor = [0x2c, 0, 0, 0, 0, 4, 0, height, 0, 0];
  return new Uint8Array([...head, ...descriptor, ...data, 0x3b]);
}

describe('GIF LZW streams that would make the decoder loop forever', () => {
  it('a code beyond the table builds a self-referencing entry: refused, in bounded time', async () => {
    // clear, 0, then 7 while the next free entry is 6; then 1 defines entry 7 as "7 + 1", and 7 chases itself.
    const bad = gif(lzw(2, [[4, 3], [0, 3], [7, 3], [1, 3], [7, 4], [5, 4]]));
    const result = await runIsolated(bad);
    expect(result.outcome).toBe('CORRUPT_IMAGE');
    expect(result.detail).toBe('Expected GIF LZW codes to refer to defined table entries (at most 6) but received code 7');
  });

  it('the same stream with valid codes decodes', async () => {
    const good = gif(lzw(2, [[4, 3], [0, 3], [1, 3], [6, 3], [7, 4], [0, 4], [1, 4], [5, 4]]), 2);
    const img = await decode(good);
    expect([img.width, img.height]).toEqual([4, 2]);
    // Palette: 0 = black, 1 = white. Codes: 0, 1, "0 1", "1 0", 0, 1 → 0 1 0 1 1 0 0 1: all 8 pixels.
    expect(Array.from({ length: 8 }, (_, i) => img.data[i * 4])).toEqual([0, 255, 0, 255, 255, 0, 0, 255]);
  });

  it('a first frame larger than the canvas is refused before omggif allocates it', async () => {
    const big = gif(lzw(2, [[4, 3], [0, 3], [5, 3]]));
    big.set([0xff, 0xff, 0xff, 0xff], 13 + 6 + 5); // frame width and height 65535 on a 4x4 canvas
    await expect(decode(big)).rejects.toMatchObject({
      code: 'CORRUPT_IMAGE',
      message: 'Expected the first GIF frame to lie within the 4x4 canvas but it is 65535x65535 at 0,0',
    });
  });
});

describe('outputs beyond a format limit', () => {
  it('a 1x16384 image is refused for WebP as IMAGE_TOO_LARGE, not as an internal failure', async () => {
    await expect(encode(createImage(1, 16_384), 'webp', { quality: 80 })).rejects.toMatchObject({
      code: 'IMAGE_TOO_LARGE',
      message: 'Expected each side of a WebP output to be at most 16383 px but the image is 1x16384',
    });
    const ok = await encode(createImage(1, 16_383), 'webp', { quality: 80 });
    expect(ok.length).toBeGreaterThan(0);
  });
});

describe('a warm PNG codec after many damaged files', () => {
  it('2000 failed PNG decodes leave decode and encode of a good PNG unchanged', async () => {
    const good = image('with-alpha.png');
    const before = await decode(good);
    const encodedBefore = await encode(before, 'png');
    const bad = good.slice();
    for (let i = 60; i < 200; i++) bad[i] ^= 0x55;
    for (let i = 0; i < 2000; i++) {
      await expect(decode(bad)).rejects.toMatchObject({ code: 'CORRUPT_IMAGE' });
    }
    const after = await decode(good);
    expect(after.data).toEqual(before.data);
    expect(await encode(after, 'png')).toEqual(encodedBefore);
  });
});
