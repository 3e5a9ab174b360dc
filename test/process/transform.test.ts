import { describe, expect, it, beforeAll } from 'vitest';
import sharp, { type Sharp } from 'sharp';
import { readFileSync } from 'node:fs';
import '../../entries/node.js';
import { transform, outputQuality, type TransformOptions } from '../../src/process/transform.js';
import { readHeader } from '../../src/formats.js';
import { decode } from '../../src/decode.js';
import { encode } from '../../src/encode.js';
import { ImgpipeError } from '../../src/errors.js';
import { encodeBase64Url } from '../../src/process/params.js';
import { createStyleTable } from '../../src/process/styles.js';

const FIXTURES = new URL('../fixtures/', import.meta.url);
const fixture = (p: string) => new Uint8Array(readFileSync(new URL(p, FIXTURES)));

/** A 200x100 PNG with a gradient and a distinct quadrant pattern, so geometry errors show. */
async function source(width = 200, height = 100, alpha = false): Promise<Uint8Array> {
  const raw = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      raw[i] = Math.round((x / width) * 255);
      raw[i + 1] = Math.round((y / height) * 255);
      raw[i + 2] = x < width / 2 === y < height / 2 ? 220 : 30;
      raw[i + 3] = alpha ? 128 + ((x + y) % 128) : 255;
    }
  }
  return new Uint8Array(await sharp(raw, { raw: { width, height, channels: 4 } }).png().toBuffer());
}

async function rgba(bytes: Uint8Array | Buffer) {
  const { data, info } = await sharp(bytes).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

/** Mean and max absolute channel difference between two same-size RGBA buffers. */
function distance(a: Uint8Array, b: Uint8Array): { mean: number; max: number } {
  expect(a.length).toBe(b.length);
  let sum = 0, max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    sum += d;
    if (d > max) max = d;
  }
  return { mean: sum / a.length, max };
}

async function refusal(p: Promise<unknown>): Promise<ImgpipeError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ImgpipeError);
    return e as ImgpipeError;
  }
  throw new Error('expected a refusal');
}

let src: Uint8Array;
beforeAll(async () => {
  src = await source();
});

describe('resize: the documented examples (200x100 source)', () => {
  it.each([
    ['image/resize,w_150,h_80', 150, 75],
    ['image/resize,m_lfit,w_150,h_80', 150, 75],
    ['image/resize,m_mfit,w_150,h_80', 160, 80],
    ['image/resize,m_fill,w_150,h_80', 150, 80],
    ['image/resize,m_pad,w_150,h_80', 150, 80],
    ['image/resize,m_fixed,w_150,h_80', 150, 80],
    ['image/resize,w_100', 100, 50],
    ['image/resize,h_50', 100, 50],
    ['image/resize,m_fixed,w_100', 100, 50],
    ['image/resize,p_50', 100, 50],
    ['image/resize,p_150', 300, 150],
    ['image/resize,w_100,h_100,p_50', 50, 25],
    ['image/resize,l_100', 100, 50],
    ['image/resize,s_50', 100, 50],
    ['image/resize,l_100,s_20', 40, 20],
    ['image/resize,m_mfit,l_100,s_20', 100, 50],
    ['image/resize,w_100,l_10', 100, 50],
    ['image/resize,w_400', 200, 100],
    ['image/resize,w_400,limit_0', 400, 200],
    ['image/resize,m_fixed,w_300,h_50', 200, 100],
    ['image/resize,m_fixed,w_300,h_50,limit_0', 300, 50],
  ])('%s -> %ix%i', async (process, w, h) => {
    const out = await transform(src, process);
    expect([out.width, out.height]).toEqual([w, h]);
    const meta = await sharp(out.bytes).metadata();
    expect([meta.width, meta.height]).toEqual([w, h]);
  });

  it('pads with the colour, centred', async () => {
    const out = await rgba((await transform(src, 'image/resize,m_pad,w_200,h_200,color_FF0000/format,png')).bytes);
    expect([out.width, out.height]).toEqual([200, 200]);
    expect([...out.data.subarray(0, 4)]).toEqual([255, 0, 0, 255]); // top band is padding
    const mid = (100 * 200 + 100) * 4;
    expect(out.data[mid + 3]).toBe(255);
    expect(out.data[mid]).not.toBe(255);
  });

  it('matches sharp\'s Lanczos3 resize', async () => {
    const ours = await rgba((await transform(src, 'image/resize,m_fixed,w_150,h_80/format,png')).bytes);
    const ref = await rgba(await sharp(src).resize(150, 80, { fit: 'fill', kernel: 'lanczos3' }).png().toBuffer());
    expect(distance(ours.data, ref.data).mean).toBeLessThan(2);
  });
});

describe('pixel operations compared with sharp', () => {
  it.each([
    ['image/rotate,90/format,png', (s: Sharp) => s.rotate(90)],
    ['image/rotate,180/format,png', (s: Sharp) => s.rotate(180)],
    ['image/rotate,270/format,png', (s: Sharp) => s.rotate(270)],
    ['image/crop,x_10,y_20,w_50,h_30/format,png', (s: Sharp) => s.extract({ left: 10, top: 20, width: 50, height: 30 })],
    ['image/crop,w_50,h_30,g_se/format,png', (s: Sharp) => s.extract({ left: 150, top: 70, width: 50, height: 30 })],
    ['image/crop,w_50,h_30,x_10,y_5,g_se/format,png', (s: Sharp) => s.extract({ left: 140, top: 65, width: 50, height: 30 })],
    ['image/crop,w_50,h_30,g_center/format,png', (s: Sharp) => s.extract({ left: 75, top: 35, width: 50, height: 30 })],
    ['image/crop,w_50,g_east/format,png', (s: Sharp) => s.extract({ left: 150, top: 0, width: 50, height: 100 })],
    ['image/crop,w_300,h_300,x_190,y_90/format,png', (s: Sharp) => s.extract({ left: 190, top: 90, width: 10, height: 10 })],
    ['image/indexcrop,x_60,i_1/format,png', (s: Sharp) => s.extract({ left: 60, top: 0, width: 60, height: 100 })],
    ['image/indexcrop,x_60,i_3/format,png', (s: Sharp) => s.extract({ left: 180, top: 0, width: 20, height: 100 })],
    ['image/indexcrop,x_60,y_40,i_1/format,png', (s: Sharp) => s.extract({ left: 0, top: 40, width: 200, height: 40 })],
    ['image/indexcrop,x_60,i_9/format,png', (s: Sharp) => s],
  ])('%s is pixel-identical to sharp', async (process, ref) => {
    const ours = await rgba((await transform(src, process)).bytes);
    const theirs = await rgba(await ref(sharp(src)).png().toBuffer());
    expect([ours.width, ours.height]).toEqual([theirs.width, theirs.height]);
    expect(distance(ours.data, theirs.data).max).toBe(0);
  });

  it.each([
    ['h', (s: Sharp) => s.flop()],
    ['v', (s: Sharp) => s.flip()],
    ['hv', (s: Sharp) => s.flip().flop()],
  ])('flip,%s (extension) is pixel-identical to sharp', async (axis, ref) => {
    const ours = await rgba((await transform(src, `image/flip,${axis}/format,png`, { extensions: true })).bytes);
    const theirs = await rgba(await ref(sharp(src)).png().toBuffer());
    expect(distance(ours.data, theirs.data).max).toBe(0);
  });

  it.each([
    ['image/bright,40/format,png', (s: Sharp) => s.linear(1, 102)],
    ['image/bright,-30/format,png', (s: Sharp) => s.linear(1, -76.5)],
    ['image/contrast,50/format,png', (s: Sharp) => s.linear(2.25, 128 * (1 - 2.25))],
    ['image/contrast,-50/format,png', (s: Sharp) => s.linear(0.25, 128 * (1 - 0.25))],
    ['image/blur,r_12,s_4/format,png', (s: Sharp) => s.blur(4)],
  ])('%s matches sharp closely', async (process, ref) => {
    const ours = await rgba((await transform(src, process)).bytes);
    const theirs = await rgba(await ref(sharp(src)).png().toBuffer());
    const d = distance(ours.data, theirs.data);
    expect(d.mean).toBeLessThan(1.5);
    expect(d.max).toBeLessThanOrEqual(12);
  });

  it('rotates by a free angle onto an enlarged transparent canvas, like sharp', async () => {
    const out = await transform(src, 'image/rotate,30/format,png');
    const ref = await sharp(src).rotate(30, { background: { r: 0, g: 0, b: 0, alpha: 0 } }).png().toBuffer();
    const meta = await sharp(ref).metadata();
    expect(Math.abs(out.width - meta.width!)).toBeLessThanOrEqual(1);
    expect(Math.abs(out.height - meta.height!)).toBeLessThanOrEqual(1);
    const ours = await rgba(out.bytes);
    expect(ours.data[3]).toBe(0); // the corner is new canvas
    const centre = ((ours.height >> 1) * ours.width + (ours.width >> 1)) * 4;
    expect(ours.data[centre + 3]).toBe(255);
  });

  it('sharpen raises local contrast and leaves flat areas alone', async () => {
    const flat = new Uint8Array(await sharp({ create: { width: 40, height: 40, channels: 4, background: { r: 90, g: 120, b: 200, alpha: 1 } } }).png().toBuffer());
    const flatOut = await rgba((await transform(flat, 'image/sharpen,200/format,png')).bytes);
    expect(distance(flatOut.data, (await rgba(flat)).data).max).toBe(0);
    const photo = fixture('images/320x240.jpg');
    const edges = async (bytes: Uint8Array) => {
      const { data, width } = await rgba(bytes);
      let sum = 0;
      for (let i = 4; i < data.length; i += 4) if ((i / 4) % width) sum += Math.abs(data[i] - data[i - 4]);
      return sum;
    };
    const e0 = await edges((await transform(photo, 'image/format,png')).bytes);
    const e1 = await edges((await transform(photo, 'image/sharpen,100/format,png')).bytes);
    const e2 = await edges((await transform(photo, 'image/sharpen,300/format,png')).bytes);
    expect(e1).toBeGreaterThan(e0);
    expect(e2).toBeGreaterThan(e1);
  });

  it('circle cuts the centred 2r square with transparent corners; r is clamped', async () => {
    const out = await rgba((await transform(src, 'image/circle,r_40/format,png')).bytes);
    expect([out.width, out.height]).toEqual([80, 80]);
    expect(out.data[3]).toBe(0);
    expect(out.data[(40 * 80 + 40) * 4 + 3]).toBe(255);
    const clamped = await transform(src, 'image/circle,r_500/format,png');
    expect([clamped.width, clamped.height]).toEqual([100, 100]);
    const jpeg = await rgba((await transform(src, 'image/circle,r_40/format,jpg')).bytes);
    expect(jpeg.data[0]).toBeGreaterThan(245); // outside the circle is white in JPEG
  });

  it('rounded-corners makes only the corners transparent', async () => {
    const out = await rgba((await transform(src, 'image/rounded-corners,r_20/format,png')).bytes);
    expect([out.width, out.height]).toEqual([200, 100]);
    for (const [x, y] of [[0, 0], [199, 0], [0, 99], [199, 99]]) expect(out.data[(y * 200 + x) * 4 + 3]).toBe(0);
    for (const [x, y] of [[100, 50], [20, 0], [0, 20], [199, 50]]) expect(out.data[(y * 200 + x) * 4 + 3]).toBe(255);
  });

  it('average-hue equals the mean colour sharp reports', async () => {
    const out = await transform(src, 'image/average-hue');
    expect(out.contentType).toBe('application/json');
    const { RGB } = JSON.parse(new TextDecoder().decode(out.bytes)) as { RGB: string };
    expect(RGB).toMatch(/^0x[0-9a-f]{6}$/);
    const stats = await sharp(src).stats();
    const hex = '0x' + stats.channels.slice(0, 3).map((c) => Math.round(c.mean).toString(16).padStart(2, '0')).join('');
    expect(RGB).toBe(hex);
  });
});

describe('format, quality, interlace, info, auto-orient', () => {
  it.each([
    ['image/format,png', 'png', 'image/png'],
    ['image/format,jpg', 'jpeg', 'image/jpeg'],
    ['image/format,jpeg', 'jpeg', 'image/jpeg'],
    ['image/format,webp', 'webp', 'image/webp'],
    ['image/format,gif', 'png', 'image/png'],
    ['image/resize,w_10', 'png', 'image/png'],
  ])('%s writes %s', async (process, format, type) => {
    const out = await transform(src, process);
    expect(out.format).toBe(format);
    expect(out.contentType).toBe(type);
    expect(readHeader(out.bytes).format).toBe(format);
  });

  it('format,gif on a GIF source is refused: there is no GIF encoder', async () => {
    const e = await refusal(transform(fixture('images/animated-loop-3.gif'), 'image/format,gif'));
    expect(e.code).toBe('UNSUPPORTED_FORMAT');
    expect(e.message).toBe('Expected an output format imgpipe can write (jpg, png, webp, avif) for format.value but received "gif" for a GIF source: imgpipe has no GIF encoder');
    expect(e.details?.ossCode).toBe('NotImplemented');
  });

  it('a GIF source is written as PNG by default', async () => {
    const out = await transform(fixture('images/animated-loop-3.gif'), 'image/resize,w_50');
    expect(out.format).toBe('png');
  });

  it.each([
    // state, source quality, expected
    [{ format: 'jpeg', q: 90 }, 80, 72],
    [{ format: 'jpeg', Q: 90 }, 80, 80],
    [{ format: 'jpeg', Q: 60 }, 80, 60],
    [{ format: 'jpeg', Q: 60, q: 10 }, 80, 60],
    [{ format: 'jpeg', q: 90 }, undefined, 90],
    [{ format: 'webp', q: 90 }, 80, 80],
    [{ format: 'webp', q: 70 }, undefined, 70],
    [{ format: 'jpeg' }, 92, 92],
    [{ format: 'jpeg' }, undefined, undefined],
    [{ format: 'png', q: 50 }, 80, undefined],
  ] as const)('quality rule %j with source %s -> %s', (state, sourceQuality, expected) => {
    expect(outputQuality(state, sourceQuality)).toBe(expected);
  });

  it('quality,q_ is relative to the source JPEG quality, Q_ absolute and capped by it', async () => {
    const jpeg = fixture('images/320x240.jpg');
    const q0 = readHeader(jpeg).jpegQuality!;
    const image = await decode(jpeg);
    for (const [process, quality] of [
      ['image/quality,q_90', Math.round(q0 * 0.9)],
      ['image/quality,Q_50', Math.min(50, q0)],
      ['image/quality,Q_100', q0],
      ['image/resize,w_10000', q0],
    ] as const) {
      const out = await transform(jpeg, process);
      expect(out.bytes, process).toEqual(await encode(image, 'jpeg', { quality }));
    }
  });

  it('interlace,1 writes a progressive JPEG, interlace,0 a baseline one', async () => {
    const hasMarker = (b: Uint8Array, m: number) => b.some((v, i) => v === 0xff && b[i + 1] === m);
    const prog = await transform(src, 'image/format,jpg/interlace,1');
    expect(hasMarker(prog.bytes, 0xc2)).toBe(true);
    const base = await transform(src, 'image/format,jpg/interlace,0');
    expect(hasMarker(base.bytes, 0xc2)).toBe(false);
    expect(hasMarker(base.bytes, 0xc0)).toBe(true);
  });

  it('info answers OSS\'s JSON from the header', async () => {
    const bytes = fixture('images/320x240.jpg');
    const out = await transform(bytes, 'image/info');
    expect(JSON.parse(new TextDecoder().decode(out.bytes))).toEqual({
      FileSize: { value: String(bytes.byteLength) }, Format: { value: 'jpg' }, ImageHeight: { value: '240' }, ImageWidth: { value: '320' },
    });
    const rotated = JSON.parse(new TextDecoder().decode((await transform(fixture('images/Landscape_6.jpg'), 'image/info')).bytes));
    expect(rotated.Orientation).toEqual({ value: '6' });
    const after = JSON.parse(new TextDecoder().decode((await transform(bytes, 'image/resize,w_32/info')).bytes));
    expect([after.ImageWidth.value, after.ImageHeight.value]).toEqual(['32', '24']);
  });

  it('applies EXIF orientation by default, and auto-orient,0 keeps the stored pixels', async () => {
    const l6 = fixture('images/Landscape_6.jpg');
    const stored = readHeader(l6);
    const upright = await transform(l6, 'image/resize,w_100,limit_0');
    const asStored = await transform(l6, 'image/auto-orient,0/resize,w_100');
    const explicit = await transform(l6, 'image/auto-orient,1/resize,w_100');
    expect(upright.height).toBeLessThan(upright.width); // Landscape after orientation
    expect(asStored.height).toBeGreaterThan(asStored.width);
    expect([explicit.width, explicit.height]).toEqual([upright.width, upright.height]);
    expect(stored.width).toBeLessThan(stored.height);
  });
});

describe('chaining, styles, limits and refusals', () => {
  it('runs actions left to right', async () => {
    const a = await transform(src, 'image/resize,w_100/rotate,90');
    const b = await transform(src, 'image/rotate,90/resize,w_100');
    expect([a.width, a.height]).toEqual([50, 100]);
    expect([b.width, b.height]).toEqual([100, 200]);
  });

  it('runs a style', async () => {
    const styles = createStyleTable({ small: 'image/resize,w_50/format,webp' });
    const out = await transform(src, 'style/small', { styles });
    expect([out.width, out.height, out.format]).toEqual([50, 25, 'webp']);
  });

  it.each<[string, TransformOptions, string, string, string, string | undefined]>([
    ['image/resize,m_fixed,w_5000,h_5000,limit_0', {}, 'IMAGE_TOO_LARGE', 'ImageTooLarge', 'Expected resize to produce at most 16777216 pixels but it would produce 5000x5000 = 25000000 pixels', '0040-00000007'],
    ['image/resize,p_1000', { outputLimits: { maxSide: 1000 } }, 'IMAGE_TOO_LARGE', 'ImageTooLarge', 'Expected resize to produce at most 1000 px per side but it would produce 2000x1000', '0040-00000007'],
    ['image/rotate,45', { outputLimits: { maxPixels: 20000 } }, 'IMAGE_TOO_LARGE', 'ImageTooLarge', 'Expected rotate to produce at most 20000 pixels but it would produce 213x213 = 45369 pixels', '0040-00000007'],
    ['image/crop,x_200,y_0', {}, 'INVALID_ARGUMENT', 'BadRequest', 'Advance cut\'s position is out of image. Expected crop.x below 200 and crop.y below 100 (from anchor nw) but received x=200, y=0', undefined],
    ['image/crop,x_0,y_100', {}, 'INVALID_ARGUMENT', 'BadRequest', 'Advance cut\'s position is out of image. Expected crop.x below 200 and crop.y below 100 (from anchor nw) but received x=0, y=100', undefined],
    ['image/indexcrop,x_201', {}, 'INVALID_ARGUMENT', 'InvalidArgument', 'Expected an integer between 1 and 200 for indexcrop.x but received "201"', undefined],
    ['image/resize,w_10', { limits: { maxPixels: 10000 } }, 'IMAGE_TOO_LARGE', 'ImageTooLarge', 'Expected at most 10000 pixels (limits.maxPixels) but the image header declares 200x100 = 20000 pixels', undefined],
  ])('%s %j is refused', async (process, options, code, ossCode, message, ec) => {
    const e = await refusal(transform(src, process, options));
    expect(e.code).toBe(code);
    expect(e.message).toBe(message);
    if (ossCode === 'ImageTooLarge' && ec === undefined) expect(e.details?.ossCode).toBeUndefined();
    else expect(e.details?.ossCode).toBe(ossCode);
    expect(e.details?.ec).toBe(ec);
  });

  it('refuses more than three image watermarks before decoding', async () => {
    const wm = `watermark,image_${encodeBase64Url('logo.png')}`;
    const e = await refusal(transform(src, `image/${[wm, wm, wm, wm].join('/')}`));
    expect(e.message).toBe('Expected at most 3 image watermarks but received 4');
    expect(e.details?.ossCode).toBe('WatermarkError');
  });

  it('refuses a corrupt source with a typed error', async () => {
    const e = await refusal(transform(fixture('bad/truncated.jpg'), 'image/resize,w_10'));
    expect(['CORRUPT_IMAGE']).toContain(e.code);
  });
});

describe('watermark', () => {
  const logo = async () => new Uint8Array(await sharp({ create: { width: 40, height: 20, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 1 } } }).png().toBuffer());

  it('draws text in the requested colour at the anchor', async () => {
    const white = new Uint8Array(await sharp({ create: { width: 300, height: 100, channels: 4, background: '#ffffff' } }).png().toBuffer());
    const out = await rgba((await transform(white, `image/watermark,text_${encodeBase64Url('Hello')},color_0000FF,size_40,g_nw,x_0,y_0/format,png`)).bytes);
    let blue = 0, elsewhere = 0;
    for (let y = 0; y < 100; y++) for (let x = 0; x < 300; x++) {
      const i = (y * 300 + x) * 4;
      const isBlue = out.data[i + 2] > 200 && out.data[i] < 80;
      if (isBlue && x < 150 && y < 60) blue++;
      else if (isBlue) elsewhere++;
    }
    expect(blue).toBeGreaterThan(100);
    expect(elsewhere).toBe(0);
  });

  it('places an image watermark read from the same bucket, scaled by P', async () => {
    const white = new Uint8Array(await sharp({ create: { width: 200, height: 200, channels: 4, background: '#ffffff' } }).png().toBuffer());
    const keys: string[] = [];
    const out = await rgba((await transform(white, `image/watermark,image_${encodeBase64Url('logos/red.png?x-oss-process=image/resize,P_10')},g_se,x_0,y_0/format,png`, {
      loadObject: async (key) => { keys.push(key); return logo(); },
    })).bytes);
    expect(keys).toEqual(['logos/red.png']);
    // P_10 of 200 px = a 20 px wide logo (aspect kept: 20x10) in the bottom-right corner.
    const px = (x: number, y: number) => [...out.data.subarray((y * 200 + x) * 4, (y * 200 + x) * 4 + 3)];
    expect(px(195, 195)).toEqual([255, 0, 0]);
    expect(px(175, 195)).toEqual([255, 255, 255]);
    expect(px(195, 185)).toEqual([255, 255, 255]);
  });

  it('refuses preprocessing actions OSS does not allow for watermark images', async () => {
    const e = await refusal(transform(src, `image/watermark,image_${encodeBase64Url('l.png?x-oss-process=image/blur,r_3')}`, { loadObject: logo }));
    expect(e.message).toBe('Expected watermark image preprocessing with resize, crop, indexcrop, rounded-corners, rotate but received "blur"');
    expect(e.details?.ossCode).toBe('WatermarkError');
  });
});
