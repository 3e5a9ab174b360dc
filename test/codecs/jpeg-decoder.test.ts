import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Vips from 'wasm-vips';
import sharp from 'sharp';
import { decode, inspect } from '../../entries/node.js';
import { decodeBaselineJpeg, decodeJpegScaled, jpegDecoderStats } from '../../src/codecs/jpeg.js';
import { decodeJpeg } from '../../src/codecs/jpeg-fallback.js';
import type { JpegShrink } from '../../src/codecs/jpeg-frame.js';
import type { RGBAImage } from '../../src/image.js';
import { chooseShrink } from '../../src/decode.js';
import type { ImageHeader } from '../../src/header.js';
import { fixture, image, listImages } from '../helpers/fixtures.js';
import { ensureElephants } from '../../bench/inputs.js';

/**
 * Inputs made with libjpeg-turbo 2.1.5's cjpeg from a crop of flowers.jpeg, for what the shared
 * fixtures lack: 4:2:2 (2x1), 4:4:0 (1x2), 4:1:1 (4x1), restart intervals in rows and in MCUs,
 * sizes that are no multiple of the MCU, 3x3 images (too narrow for fancy upsampling), progressive
 * files (every sampling, restarts, a custom scan script) and an arithmetic file that must fall back.
 * See test/fixtures/jpegdec/README.md.
 */
const INPUTS = fileURLToPath(new URL('../fixtures/jpegdec/', import.meta.url));
const input = (name: string) => new Uint8Array(readFileSync(INPUTS + name));

/** Files the own decoder leaves to jpeg-js, and why (arithmetic-coded ones, to libjpeg-turbo, are tested below). */
const FALLBACK: Record<string, string> = {
  'Channel_digital_image_CMYK_color.jpg': 'CMYK (4 components)',
  'Channel_digital_image_CMYK_color_no_profile.jpg': 'CMYK (4 components)',
};

/** Arithmetic-coded inputs (cjpeg -arithmetic): libjpeg-turbo decodes them, the own decoder leaves them. */
const ARITHMETIC = ['arithmetic-37x21.jpg', 'arithmetic-h2v2-203x117.jpg', 'arithmetic-progressive-h2v1-203x117.jpg'];

const ALL = [
  ...listImages().filter((f) => /\.jpe?g$/i.test(f)).map((name) => ({ name, bytes: () => image(name) })),
  ...readdirSync(INPUTS).filter((f) => f.endsWith('.jpg')).sort().map((name) => ({ name, bytes: () => input(name) })),
];
const OWN = ALL.filter((f) => !(f.name in FALLBACK) && !ARITHMETIC.includes(f.name));
const PROGRESSIVE = OWN.filter((f) => f.name.startsWith('progressive-'));

const vipsReady = Vips();

function firstDifference(a: Uint8ClampedArray, b: Uint8ClampedArray): number | undefined {
  if (a.length !== b.length) return -1;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return undefined;
}

describe('own JPEG decoder at full size', () => {
  it('covers every JPEG fixture: the listed fallbacks exist and everything else is decoded by the own decoder', () => {
    const names = ALL.map((f) => f.name);
    for (const f of [...Object.keys(FALLBACK), ...ARITHMETIC]) expect(names).toContain(f);
    expect(OWN.length).toBeGreaterThanOrEqual(27);
    expect(PROGRESSIVE.length).toBeGreaterThanOrEqual(7);
  });

  it.each(OWN)('$name: RGBA byte-identical to libjpeg-turbo (the fallback decoder)', async ({ bytes }) => {
    const b = bytes();
    const header = inspect(b);
    const own = await decodeBaselineJpeg(b, header, 1);
    expect(own, 'the own decoder handles this file').toBeDefined();
    const ref = await decodeJpeg(b, header);
    expect([own!.width, own!.height]).toEqual([ref.width, ref.height]);
    expect(firstDifference(own!.data, ref.data)).toBeUndefined();
  });

  it.each(Object.entries(FALLBACK))('%s falls back (%s) and still decodes at full size', async (name) => {
    const b = name in Object.fromEntries(listImages().map((n) => [n, 1])) ? image(name) : input(name);
    const header = inspect(b);
    expect(await decodeBaselineJpeg(b, header, 2)).toBeUndefined();
    const out = await decodeJpegScaled(b, header, 2);
    expect(out.shrink).toBe(1);
    expect([out.image.width, out.image.height]).toEqual([header.width, header.height]);
  });

});

describe('arithmetic-coded JPEGs: decoded by libjpeg-turbo, as sharp decodes them', () => {
  it.each(ARITHMETIC)('%s: left by the own decoder, decoded to sharp\'s pixels', async (name) => {
    const b = input(name);
    expect(await decodeBaselineJpeg(b, inspect(b), 1)).toBeUndefined();
    const out = await decode(b);
    const ref = await sharp(b).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    expect([out.width, out.height]).toEqual([ref.info.width, ref.info.height]);
    expect(firstDifference(out.data, new Uint8ClampedArray(ref.data))).toBeUndefined();
  });

  it.each(ARITHMETIC.flatMap((name) => [2, 4, 8].map((shrink) => ({ name, shrink: shrink as JpegShrink }))))(
    '$name at 1/$shrink: decoded reduced, byte-identical to libjpeg-turbo (wasm-vips shrink-on-load)',
    async ({ name, shrink }) => {
      const b = input(name);
      const header = inspect(b);
      const out = await decodeJpegScaled(b, header, shrink);
      expect(out.shrink).toBe(shrink);
      expect([out.image.width, out.image.height]).toEqual([Math.ceil(header.width / shrink), Math.ceil(header.height / shrink)]);
      expect(await vipsMismatch(b, shrink, out.image)).toBeUndefined();
    },
  );

  it('a truncated arithmetic file is refused by default, by failOn error with libjpeg\'s words, decoded with none', async () => {
    const b = input('arithmetic-h2v2-203x117.jpg');
    const cut = b.subarray(0, b.length >> 1);
    await expect(decode(cut)).rejects.toMatchObject({
      code: 'CORRUPT_IMAGE', message: `Expected a complete JPEG but the file is truncated: no end-of-image marker after the image data (${cut.length} bytes received)`,
    });
    await expect(decodeJpeg(cut, inspect(b), 'error')).rejects.toMatchObject({ code: 'CORRUPT_IMAGE', message: 'Expected a decodable JPEG but the decoder reported: Premature end of JPEG file' });
    await expect(sharp(cut).raw().toBuffer()).rejects.toThrow(/premature end/i);
    expect(await decode(cut, { failOn: 'none' })).toMatchObject({ width: 203, height: 117 });
  });

  it('a fatal libjpeg error is CORRUPT_IMAGE with its message, and the next file still decodes', async () => {
    const b = input('arithmetic-h2v2-203x117.jpg').slice();
    // The frame header's component count (after FF C9, length, precision, height, width) set to 2.
    const sof = b.findIndex((v, i) => v === 0xff && b[i + 1] === 0xc9);
    b[sof + 9] = 2;
    await expect(decodeJpeg(b, inspect(input('arithmetic-h2v2-203x117.jpg')))).rejects.toMatchObject({
      code: 'CORRUPT_IMAGE', message: expect.stringMatching(/^Expected a decodable JPEG but libjpeg reported: Bogus marker length/),
    });
    expect(await decode(input('arithmetic-37x21.jpg'))).toMatchObject({ width: 37, height: 21 });
  });
});

describe('own JPEG decoder with DCT scaling', () => {
  // wasm-vips runs libjpeg-turbo's C code (no SIMD) in WebAssembly with scale_denom = shrink. libvips
  // rounds the scaled size down where libjpeg rounds up, so the comparison covers libvips' size and
  // the extra row/column is checked to exist.
  it.each(OWN.flatMap((f) => [2, 4, 8].map((shrink) => ({ ...f, shrink: shrink as JpegShrink }))))(
    '$name at 1/$shrink: byte-identical to libjpeg-turbo (wasm-vips shrink-on-load)',
    async ({ bytes, shrink }) => {
      const b = bytes();
      const header = inspect(b);
      const own = await decodeBaselineJpeg(b, header, shrink);
      expect(own).toBeDefined();
      expect([own!.width, own!.height]).toEqual([Math.ceil(header.width / shrink), Math.ceil(header.height / shrink)]);
      if (Math.floor(header.width / shrink) < 1 || Math.floor(header.height / shrink) < 1) return; // libvips refuses 0 px
      expect(await vipsMismatch(b, shrink, own!)).toBeUndefined();
    },
  );
});

/** First pixel where `own` differs from wasm-vips' libjpeg-turbo decode at `shrink`, if any. */
async function vipsMismatch(b: Uint8Array, shrink: JpegShrink, own: RGBAImage): Promise<string | undefined> {
  const vips = await vipsReady;
  const ref = vips.Image.jpegloadBuffer(b, { shrink, autorotate: false } as never);
  try {
    const header = inspect(b);
    expect(ref.width).toBe(Math.floor(header.width / shrink));
    expect(ref.height).toBe(Math.floor(header.height / shrink));
    const px = ref.writeToMemory();
    const bands = ref.bands;
    for (let y = 0; y < ref.height; y++) {
      for (let x = 0; x < ref.width; x++) {
        for (let c = 0; c < 3; c++) {
          const want = px[(y * ref.width + x) * bands + (bands === 1 ? 0 : c)];
          const got = own.data[(y * own.width + x) * 4 + c];
          if (want !== got) return `pixel ${x},${y} channel ${c}: ${got} instead of ${want}`;
        }
      }
    }
    return undefined;
  } finally {
    ref.delete();
  }
}

describe('own JPEG decoder on a large progressive photo', () => {
  // Debian's mate-backgrounds Elephants (5640x3172, progressive 4:2:2), the benchmark's big input.
  const elephants = () => new Uint8Array(readFileSync(ensureElephants()));

  it('Elephants_5640x3172.jpg at full size: byte-identical to libjpeg-turbo', async () => {
    const b = elephants();
    const header = inspect(b);
    const own = await decodeBaselineJpeg(b, header, 1);
    expect(own && [own.width, own.height]).toEqual([5640, 3172]);
    const ref = await decodeJpeg(b, header);
    expect(firstDifference(own!.data, ref.data)).toBeUndefined();
  });

  it('Elephants_5640x3172.jpg at 1/4 (the recipe\'s scale): byte-identical to libjpeg-turbo', async () => {
    const b = elephants();
    const own = await decodeBaselineJpeg(b, inspect(b), 4);
    expect(own && [own.width, own.height]).toEqual([1410, 793]);
    expect(await vipsMismatch(b, 4, own!)).toBeUndefined();
  });
});

describe('damaged progressive JPEGs are refused', () => {
  const prog = () => input('progressive-203x117.jpg');
  /** Offsets of the SOS markers: FF DA never occurs inside entropy-coded data (FF is stuffed). */
  const scans = (b: Uint8Array) => [...b.keys()].filter((i) => b[i] === 0xff && b[i + 1] === 0xda);
  /** Ss, Se and Ah/Al of the scan whose SOS marker is at `at`. */
  const params = (b: Uint8Array, at: number) => at + 5 + 2 * b[at + 4];
  const withEoi = (b: Uint8Array) => new Uint8Array([...b, 0xff, 0xd9]);
  const header = (): ImageHeader => inspect(prog());
  const RULES = ' (allowed: Ss = Se = 0 for a DC scan, 1 <= Ss <= Se <= 63 for an AC scan of one component, Ah = 0 or Al + 1, Al <= 13)';
  const cases: [string, () => Uint8Array, string, () => ImageHeader][] = [
    ['spectral selection past coefficient 63', () => {
      const b = prog().slice();
      b[params(b, scans(b)[1]) + 1] = 64; // the first AC scan: Ss=1 Se=5 Ah=0 Al=2
      return b;
    }, `Invalid progressive parameters Ss=1 Se=64 Ah=0 Al=2${RULES}`, header],
    ['an AC band that starts after it ends', () => {
      const b = prog().slice();
      b[params(b, scans(b)[1])] = 6;
      return b;
    }, `Invalid progressive parameters Ss=6 Se=5 Ah=0 Al=2${RULES}`, header],
    ['an AC band in an interleaved scan', () => {
      const b = prog().slice();
      const at = params(b, scans(b)[0]); // the DC scan of all three components
      b[at] = 1;
      b[at + 1] = 63;
      return b;
    }, `Invalid progressive parameters Ss=1 Se=63 Ah=0 Al=1${RULES}`, header],
    ['a refinement whose Al is not Ah - 1', () => {
      const b = prog().slice();
      b[params(b, scans(b)[5]) + 2] = 0x20; // Ah=2 Al=1 becomes Ah=2 Al=0
      return b;
    }, `Invalid progressive parameters Ss=1 Se=63 Ah=2 Al=0${RULES}`, header],
    ['a refinement that skips a bit (Ah not the previous Al)', () => {
      const b = prog().slice();
      b[params(b, scans(b)[5]) + 2] = 0x32; // Ah=2 Al=1 becomes Ah=3 Al=2 after scans with Al=2
      return b;
    }, 'Inconsistent progression sequence for component 1 coefficient 1: expected Ah=2 after the earlier scans but received Ah=3', header],
    ['an AC scan before the DC scan', () => {
      const b = input('progressive-grey-restart-rows-203x117.jpg').slice();
      const at = params(b, scans(b)[0]);
      b[at] = 1;
      b[at + 1] = 5;
      return b;
    }, 'Inconsistent progression sequence: an AC scan (Ss=1) of component 1 before its DC scan', () => inspect(input('progressive-grey-restart-rows-203x117.jpg'))],
    ['the file cut after some scans (no EOI)', () => { const b = prog(); return b.subarray(0, scans(b)[6]); },
      'Premature end of JPEG file (no EOI marker after the image data)', header],
    ['the file cut in the middle of a scan', () => { const b = prog(); const s = scans(b); return withEoi(b.subarray(0, (s[2] + s[3]) >> 1)); },
      'Corrupt JPEG data: premature end of data segment', header],
    ['an undefined Huffman code in an AC scan', () => {
      // All-ones bits are never a code; the 4:4:4 file's first AC scan is long enough to hold them.
      const b = input('progressive-h1v1-203x117.jpg').slice();
      b.set([0xff, 0x00, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00], params(b, scans(b)[1]) + 8);
      return b;
    }, 'Corrupt JPEG data: bad Huffman code', () => inspect(input('progressive-h1v1-203x117.jpg'))],
    ['a restart marker out of sequence in a progressive scan', () => {
      const b = input('progressive-h2v2-restart-2-37x21.jpg').slice();
      const rst = b.findIndex((v, i) => i > scans(b)[3] && v === 0xff && b[i + 1] === 0xd0);
      b[rst + 1] = 0xd2;
      return b;
    }, 'Corrupt JPEG data: restart marker missing or out of sequence', () => inspect(input('progressive-h2v2-restart-2-37x21.jpg'))],
  ];
  it.each(cases)('%s → CORRUPT_IMAGE', async (_, make, message, h) => {
    await expect(decodeBaselineJpeg(make(), h(), 1)).rejects.toMatchObject({
      code: 'CORRUPT_IMAGE',
      message: `Expected a decodable JPEG but the decoder reported: ${message}`,
    });
  });

  // libjpeg shows an incomplete progression (smoothed, without a warning) and sharp decodes it: the
  // own decoder has no block smoothing, so it leaves such files to libjpeg-turbo, which has.
  it.each([
    ['EOI after some of the scans', () => { const b = prog(); return withEoi(b.subarray(0, scans(b)[6])); }],
    ['a component whose last scan is missing', () => {
      const b = prog();
      const s = scans(b);
      // Drop the last scan (Cr's final AC refinement) with the DHT before it.
      let dht = s[s.length - 1];
      while (!(b[dht] === 0xff && b[dht + 1] === 0xc4)) dht--;
      return withEoi(b.subarray(0, dht));
    }],
  ])('%s: left to libjpeg-turbo, which shows the partial progression', async (_, make) => {
    const b = make();
    expect(await decodeBaselineJpeg(b, header(), 1)).toBeUndefined();
    const out = await decode(b);
    expect([out.width, out.height]).toEqual([203, 117]);
    expect(firstDifference(out.data, (await decodeJpeg(b, header())).data)).toBeUndefined();
  });

  it('damage is refused at every scale and through decode()', async () => {
    const b = prog().slice();
    b[params(b, scans(b)[1]) + 1] = 64;
    for (const shrink of [2, 4, 8] as const) {
      await expect(decodeBaselineJpeg(b, header(), shrink)).rejects.toMatchObject({ code: 'CORRUPT_IMAGE' });
    }
    await expect(decode(b)).rejects.toMatchObject({ code: 'CORRUPT_IMAGE', message: expect.stringContaining('Invalid progressive parameters Ss=1 Se=64') });
  });

  it('a damaged progressive file does not poison the next decode, and the instance is reused', async () => {
    const b = prog().slice();
    b[params(b, scans(b)[5]) + 2] = 0x32;
    const before = jpegDecoderStats().instancesCreated;
    await expect(decodeBaselineJpeg(b, header(), 1)).rejects.toMatchObject({ code: 'CORRUPT_IMAGE' });
    const ok = await decodeBaselineJpeg(prog(), header(), 1);
    expect(ok && [ok.width, ok.height]).toEqual([203, 117]);
    expect(jpegDecoderStats().instancesCreated - before).toBeLessThanOrEqual(1);
  });
});

describe('damaged JPEGs are refused', () => {
  const rst = () => input('h2v2-restart-rows-203x117.jpg');
  const marker = (b: Uint8Array, m: number) => b.findIndex((v, i) => v === 0xff && b[i + 1] === m);
  // The header engineer's readHeader refuses files without EOI, so these call the decoder with the
  // intact file's header to exercise its own checks.
  const header = (): ImageHeader => inspect(rst());
  const cases: [string, () => Uint8Array, string][] = [
    ['a restart marker out of sequence', () => { const b = rst().slice(); b[marker(b, 0xd1) + 1] = 0xd3; return b; }, 'Corrupt JPEG data: restart marker missing or out of sequence'],
    ['a missing restart marker', () => { const b = rst(); const i = marker(b, 0xd1); return new Uint8Array([...b.subarray(0, i), ...b.subarray(i + 2)]); }, 'Corrupt JPEG data: extraneous bytes where a marker belongs'],
    ['data cut before the last MCU', () => { const b = rst(); return b.subarray(0, marker(b, 0xda) + 300); }, 'Corrupt JPEG data: premature end of data segment'],
    ['no EOI after the image data', () => { const b = rst(); return b.subarray(0, b.length - 2); }, 'Premature end of JPEG file (no EOI marker after the image data)'],
    ['an undefined Huffman code', () => {
      const b = rst().slice();
      // All-ones bits are never a valid code (libjpeg forbids the all-ones code); 0xFF is stuffed as FF 00.
      const at = marker(b, 0xda) + 14 + 40;
      b.set([0xff, 0x00, 0xff, 0x00, 0xff, 0x00], at);
      return b;
    }, 'Corrupt JPEG data: bad Huffman code'],
    ['a Huffman table with too many codes of a length', () => {
      const b = rst().slice();
      b[marker(b, 0xc4) + 5] = 3; // three 1-bit codes
      return b;
    }, 'Bogus Huffman table definition'],
  ];
  it.each(cases)('%s → CORRUPT_IMAGE', async (_, make, message) => {
    await expect(decodeBaselineJpeg(make(), header(), 1)).rejects.toMatchObject({
      code: 'CORRUPT_IMAGE',
      message: `Expected a decodable JPEG but the decoder reported: ${message}`,
    });
  });

  it('garbage between the last MCU and EOI changes no pixel: decoded (libjpeg reads it only after the last row, as sharp does)', async () => {
    const b = rst();
    const out = await decodeBaselineJpeg(new Uint8Array([...b.subarray(0, b.length - 2), 1, 2, 3, 0xff, 0xd9]), header(), 1);
    expect(firstDifference(out!.data, (await decodeBaselineJpeg(b, header(), 1))!.data)).toBeUndefined();
  });

  it('the truncated fixture is refused through decode()', async () => {
    await expect(decode(fixture('bad/truncated.jpg'))).rejects.toMatchObject({ code: 'CORRUPT_IMAGE' });
  });

  it('a damaged file does not poison the next decode', async () => {
    const b = rst().slice();
    b[marker(b, 0xd1) + 1] = 0xd3;
    await expect(decodeBaselineJpeg(b, header(), 1)).rejects.toMatchObject({ code: 'CORRUPT_IMAGE' });
    const ok = await decodeBaselineJpeg(rst(), header(), 1);
    expect(ok && [ok.width, ok.height]).toEqual([203, 117]);
  });
});

describe('decode({ shrinkTo })', () => {
  it('without shrinkTo decodes at full size', async () => {
    const d = await decode(image('flowers.jpeg'));
    expect([d.width, d.height, d.shrink]).toEqual([1920, 1080, 1]);
  });

  it.each([
    // sharp's rule: the largest of 8/4/2 not above the ratio, halved when it equals the ratio's integer part.
    [{ width: 200, height: 100 }, 8, [240, 135]], // 9.6x
    [{ width: 240, height: 135 }, 4, [480, 270]], // 8x exactly: 8 halved
    [{ width: 241, height: 135 }, 4, [480, 270]], // 7.97x
    [{ width: 480, height: 271 }, 2, [960, 540]], // 3.98x
    [{ width: 640, height: 360 }, 2, [960, 540]], // 3x
    [{ width: 960, height: 540 }, 1, [1920, 1080]], // 2x exactly: 2 halved
    [{ width: 961, height: 100 }, 1, [1920, 1080]], // 1.998x
  ] as const)('flowers.jpeg (1920x1080) to %o: shrink %i', async (shrinkTo, shrink, size) => {
    const d = await decode(image('flowers.jpeg'), { shrinkTo });
    expect([d.shrink, d.width, d.height]).toEqual([shrink, ...size]);
    expect([d.header.width, d.header.height]).toEqual([1920, 1080]);
  });

  it('measures the target against the oriented size (EXIF 6 swaps the sides)', async () => {
    // Landscape_6.jpg stores 450x600 and displays 600x450.
    const d = await decode(image('Landscape_6.jpg'), { shrinkTo: { width: 60, height: 45 } });
    expect([d.shrink, d.width, d.height]).toEqual([8, 75, 57]);
    const e = await decode(image('Landscape_6.jpg'), { shrinkTo: { width: 151, height: 112 } });
    expect([e.shrink, e.width, e.height]).toEqual([2, 300, 225]);
    // Landscape_1 stores and displays 600x450; Landscape_5 stores 450x600 and displays 600x450.
    expect(chooseShrink(inspect(image('Landscape_1.jpg')), { width: 110, height: 80 })).toBe(4);
    expect(chooseShrink(inspect(image('Landscape_5.jpg')), { width: 110, height: 80 })).toBe(4);
    expect(chooseShrink(inspect(image('Landscape_5.jpg')), { width: 80, height: 110 })).toBe(2);
  });

  it('other formats ignore it', async () => {
    const d = await decode(image('with-alpha.png'), { shrinkTo: { width: 1, height: 1 } });
    expect(d.shrink).toBe(1);
  });

  it.each([
    [{ width: 0, height: 10 }, 'Expected an integer between 1 and 65535 for shrinkTo.width but received 0'],
    [{ width: 10, height: 1.5 }, 'Expected an integer between 1 and 65535 for shrinkTo.height but received 1.5'],
    [{ width: 10 }, 'Expected an integer between 1 and 65535 for shrinkTo.height but received nothing'],
    [null, 'Expected an object { width, height } for shrinkTo but received null'],
  ])('shrinkTo %o is refused', async (shrinkTo, message) => {
    await expect(decode(image('flowers.jpeg'), { shrinkTo: shrinkTo as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message });
  });
});

