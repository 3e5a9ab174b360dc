/**
 * decodeResized: the recipe's largest size straight from the file. A JPEG's rows go from the decoder
 * to the resize kernel as they come out, and the result must be exactly what decoding and then
 * resizing gives, with the same refusals. A file of its own: the memory figures need decoder and
 * kernel instances no other test has grown.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import '../../entries/node.js';
import { chooseShrink, decode, inspect } from '../../src/decode.js';
import { decodeLent, decodeResized } from '../../src/decode-resized.js';
import { resize, resizeTarget } from '../../src/ops/resize.js';
import { uprightSize } from '../../src/header.js';
import { decodeJpegResized, jpegDecoderStats, resetJpegDecoder } from '../../src/codecs/jpeg.js';
import { transform } from '../../src/process/transform.js';
import { kernelStats } from '../../src/kernels/lanczos.js';
import { isImgpipeError } from '../../src/errors.js';
import { image } from '../helpers/fixtures.js';

/** Both ways to the recipe's `width`: one pass, and decode (shrink-on-load as the recipe asks) then resize. */
async function bothWays(bytes: Uint8Array, width: number) {
  const header = inspect(bytes);
  const { width: w, height: h } = uprightSize(header);
  const target = resizeTarget(w, h, { width });
  const streamed = await decodeResized(bytes, header, target, { shrinkTo: target });
  const decoded = await decode(bytes, { shrinkTo: target });
  const twoSteps = await resize(decoded, { ...target, fit: 'fill' });
  return { streamed, twoSteps, decoded };
}

const same = (a: { data: Uint8ClampedArray }, b: { data: Uint8ClampedArray }) => Buffer.compare(Buffer.from(a.data), Buffer.from(b.data)) === 0;

describe('decodeResized', () => {
  it('holds neither the decoded photo nor a copy of it: the decoder keeps a few MCU rows, the kernel a few rows', async () => {
    expect(jpegDecoderStats().instancesCreated + kernelStats().instancesCreated).toBe(0);
    const bytes = image('2569067123_aca715a2ee_o.jpg');
    const target = { width: 1200, height: 980 };
    const streamed = await decodeResized(bytes, inspect(bytes), target, { shrinkTo: target });
    // Decoded whole, the 2725x2225 photo is 24 MB in the decoder, and again in the kernel.
    expect(jpegDecoderStats().memoryBytes).toBeLessThan(bytes.byteLength + 4 * 1024 * 1024);
    expect(kernelStats().memoryBytes).toBeLessThan(8 * 1024 * 1024);
    expect(same(streamed, (await bothWays(bytes, 1200)).twoSteps)).toBe(true);
  });

  it('serves an x-oss-process chain that starts with a resize the same way', async () => {
    resetJpegDecoder();
    const bytes = image('2569067123_aca715a2ee_o.jpg');
    const out = await transform(bytes, 'image/resize,w_720/format,webp');
    expect([out.width, out.height, out.format]).toEqual([720, 588, 'webp']);
    expect(jpegDecoderStats().memoryBytes).toBeLessThan(bytes.byteLength + 4 * 1024 * 1024);
  });

  const INPUTS = fileURLToPath(new URL('../fixtures/jpegdec/', import.meta.url));
  const files: [string, Uint8Array][] = [
    ['flowers.jpeg', image('flowers.jpeg')],
    ['grey-1-component.jpg', image('grey-1-component.jpg')],
    ...readdirSync(INPUTS).filter((f) => f.endsWith('.jpg') && !f.startsWith('arithmetic')).sort().map((f): [string, Uint8Array] => [f, new Uint8Array(readFileSync(INPUTS + f))]),
  ];
  it.each(files)('%s: the same pixels as decode then resize, reducing and enlarging', async (_, bytes) => {
    for (const width of [97, 150, 1000]) {
      const { streamed, twoSteps } = await bothWays(bytes, width);
      expect(same(streamed, twoSteps), `${width} px`).toBe(true);
    }
  });

  it.each(files)('%s: two threads\' shares of the rows (the top, and the rest) join into the whole', async (_, bytes) => {
    const header = inspect(bytes);
    expect(header.progressive).toBe(_.startsWith('progressive'));
    for (const width of [1000, 150, 97]) {
      const target = resizeTarget(header.width, header.height, { width, enlarge: true });
      const shrink = chooseShrink(header, target);
      const whole = (await decodeJpegResized(bytes, header, shrink, target.width, target.height))!;
      for (const from of [1, Math.floor(target.height * 0.58), target.height - 1]) {
        const top = await decodeJpegResized(bytes, header, shrink, target.width, target.height, { from: 0, to: from });
        const rest = await decodeJpegResized(bytes, header, shrink, target.width, target.height, { from, to: target.height });
        expect([top!.height, rest!.height]).toEqual([from, target.height - from]);
        const joined = Buffer.concat([Buffer.from(top!.data), Buffer.from(rest!.data)]);
        expect(joined.equals(Buffer.from(whole.data)), `${width} px, split at row ${from}`).toBe(true);
      }
    }
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('Landscape_%i.jpg: the same pixels as decode (orient) then resize, reducing and enlarging', async (o) => {
    const bytes = image(`Landscape_${o}.jpg`);
    const header = inspect(bytes);
    for (const [width, height] of [[300, 225], [97, 73], [599, 449], [900, 700]]) {
      const target = { width, height };
      const streamed = await decodeResized(bytes, header, target, { shrinkTo: width < 600 ? target : undefined });
      const twoSteps = await resize(await decode(bytes, { shrinkTo: width < 600 ? target : undefined }), { ...target, fit: 'fill', enlarge: true });
      expect(same(streamed, twoSteps), `${width}x${height}`).toBe(true);
    }
  });

  it('orients a photo stored sideways (EXIF 6) as the kernel resizes it: neither the stored nor the upright image is held', async () => {
    const { default: sharp } = await import('sharp');
    const bytes = new Uint8Array(await sharp(image('2569067123_aca715a2ee_o.jpg')).rotate(-90).jpeg({ quality: 90 }).withMetadata({ orientation: 6 }).toBuffer());
    const header = inspect(bytes);
    expect([header.width, header.height, header.orientation]).toEqual([2225, 2725, 6]);
    resetJpegDecoder();
    const target = { width: 1200, height: 980 };
    const streamed = await decodeResized(bytes, header, target, { shrinkTo: target });
    // Decoded whole, the photo is 24 MB in the decoder, again when oriented, and in the kernel.
    expect(jpegDecoderStats().memoryBytes).toBeLessThan(bytes.byteLength + 4 * 1024 * 1024);
    const twoSteps = await resize(await decode(bytes, { shrinkTo: target }), { ...target, fit: 'fill' });
    expect(same(streamed, twoSteps)).toBe(true);
  });

  it('takes the two-step path where one pass can not: a mirrored orientation, alpha, CMYK, a large reduction, no reduction', async () => {
    const cases: [string, number][] = [
      ['Landscape_3.jpg', 300],
      ['with-alpha.png', 200],
      ['Channel_digital_image_CMYK_color.jpg', 120],
      ['2569067123_aca715a2ee_o.jpg', 40],
      ['320x240.jpg', 320],
    ];
    for (const [name, width] of cases) {
      const { streamed, twoSteps, decoded } = await bothWays(image(name), width);
      expect(same(streamed, twoSteps), name).toBe(true);
      // Never the caller's (or a lent) buffer.
      expect(streamed.data.buffer).not.toBe(decoded.data.buffer);
    }
  });

  it('refuses a damaged JPEG with the code and message decode() gives, also when the damage comes after rows went to the resize', async () => {
    const photo = image('2569067123_aca715a2ee_o.jpg');
    const at = Math.floor(photo.length * 0.6);
    // A restart marker in a file that declares no restart interval.
    const marker = new Uint8Array([...photo.subarray(0, at), 0xff, 0xd3, ...photo.subarray(at)]);
    // Cut short but closed with an end-of-image marker, so that the header check lets it through.
    const cut = new Uint8Array([...photo.subarray(0, at), 0xff, 0xd9]);
    const files = [cut, marker];
    for (const bytes of files) {
      const header = inspect(bytes);
      const target = { width: Math.ceil(header.width / 3), height: Math.ceil(header.height / 3) };
      const viaDecode = await decode(bytes).then(() => undefined, (e: unknown) => e);
      const viaResized = await decodeResized(bytes, header, target, { shrinkTo: target }).then(() => undefined, (e: unknown) => e);
      expect(isImgpipeError(viaResized, 'CORRUPT_IMAGE'), String(viaResized)).toBe(true);
      expect((viaResized as Error).message).toBe((viaDecode as Error).message);
    }
  });

  it('waits while another caller holds the decoder\'s memory', async () => {
    const a = image('320x240.jpg');
    const lent = await decodeLent(a, inspect(a));
    const before = lent.image.data.slice();
    let done = false;
    const b = image('concert.jpg');
    const pending = decodeResized(b, inspect(b), { width: 100, height: 66 }).then((img) => ((done = true), img));
    for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 0));
    expect(done).toBe(false);
    // The lent pixels are intact while the other decode waits.
    expect(same(lent.image, { data: before })).toBe(true);
    lent.release();
    expect((await pending).width).toBe(100);
  });
});
