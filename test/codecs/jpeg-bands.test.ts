import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { inspect } from '../../entries/node.js';
import { getWasmModule } from '../../src/wasm/modules.js';
import { decodeBaselineJpeg, jpegDecoderStats, resetJpegDecoder } from '../../src/codecs/jpeg.js';
import { image } from '../helpers/fixtures.js';

/**
 * The decoder works in bands: begin() reads the headers, each step(rows) call decodes about `rows`
 * MCU rows (rows of blocks in a progressive scan) and the output rows they complete. How the work
 * is cut into calls must never show in the result, intact or damaged.
 */
interface Stepper {
  readonly memory: WebAssembly.Memory;
  readonly IN_PROGRESS: WebAssembly.Global;
  alloc(bytes: number): number;
  reset(): void;
  begin(src: number, length: number, denom: number, ringMcuRows: number): number;
  step(rows: number): number;
  outWidth(): number;
  outHeight(): number;
  outPtr(): number;
  outRows(): number;
  rowsOut(): number;
  skipFrom(row: number): void;
}

const INPUTS = fileURLToPath(new URL('../fixtures/jpegdec/', import.meta.url));
const FILES: [string, () => Uint8Array][] = [
  ['2569067123_aca715a2ee_o.jpg', () => image('2569067123_aca715a2ee_o.jpg')],
  ['flowers.jpeg', () => image('flowers.jpeg')],
  ...readdirSync(INPUTS).filter((f) => f.endsWith('.jpg') && !f.startsWith('arithmetic')).sort()
    .map((f): [string, () => Uint8Array] => [f, () => new Uint8Array(readFileSync(INPUTS + f))]),
];

/**
 * Status, call count and an MD5 of the pixels of one decode cut into calls of `rows` rows. With
 * `ring` MCU rows of output, the rows are taken out of the ring after every call, as the resize does;
 * with `from`, the decoder puts out rows from there on only (skipFrom), and the MD5 covers the rows
 * from `hashFrom`.
 */
function run(k: Stepper, bytes: Uint8Array, denom: number, rows: number, ring = 0, from = 0, hashFrom = from): { status: number; calls: number; pixels?: string } {
  k.reset();
  const src = k.alloc(bytes.byteLength);
  new Uint8Array(k.memory.buffer, src, bytes.byteLength).set(bytes);
  let calls = 0;
  let status = k.begin(src, bytes.byteLength, denom, ring);
  k.skipFrom(from);
  // Rows above `from` are never put out: their places stay empty.
  const taken: (Uint8Array | undefined)[] = Array.from({ length: from });
  const take = () => {
    if (ring === 0 || k.outWidth() === 0) return;
    const rowBytes = k.outWidth() * 4;
    for (let y = taken.length; y < k.rowsOut(); y++) {
      const at = k.outPtr() + (y % k.outRows()) * rowBytes;
      taken.push(new Uint8Array(k.memory.buffer, at, rowBytes).slice());
    }
  };
  while (status === k.IN_PROGRESS.value) {
    status = k.step(rows);
    calls++;
    take();
  }
  if (status !== 0) return { status, calls };
  const md5 = createHash('md5');
  if (ring === 0) md5.update(new Uint8Array(k.memory.buffer, k.outPtr(), k.outWidth() * k.outHeight() * 4));
  else {
    expect(k.outRows()).toBeLessThanOrEqual(ring * 16);
    expect(taken.length).toBe(k.outHeight());
    for (const row of taken.slice(hashFrom)) md5.update(row!);
  }
  return { status, calls, pixels: md5.digest('hex') };
}

async function stepper(): Promise<Stepper> {
  return new WebAssembly.Instance(await getWasmModule('jpegdec'), {}).exports as unknown as Stepper;
}

describe('the decoder in bands', () => {
  it.each(FILES)('%s: the same pixels whatever the band size, at every scale', async (_, bytes) => {
    const k = await stepper();
    const b = bytes();
    for (const denom of [1, 2, 8]) {
      const whole = run(k, b, denom, 1 << 30);
      expect(whole.status).toBe(0);
      for (const rows of [1, 3]) {
        const banded = run(k, b, denom, rows);
        expect({ ...banded, calls: 0 }).toEqual({ ...whole, calls: 0 });
        expect(banded.calls).toBeGreaterThanOrEqual(whole.calls);
      }
    }
  });

  it.each(FILES)('%s: the same pixels through a ring of one band\'s MCU rows plus one, taken after each call', async (_, bytes) => {
    const k = await stepper();
    const b = bytes();
    for (const denom of [1, 2, 8]) {
      const whole = run(k, b, denom, 1 << 30);
      for (const rows of [1, 4]) expect({ ...run(k, b, denom, rows, rows + 1), calls: 0 }).toEqual({ ...whole, calls: 0 });
    }
  });

  it.each(FILES)('%s: from a given row on, the rows of the whole decode (the rows above only entropy-decoded)', async (_, bytes) => {
    const k = await stepper();
    const b = bytes();
    for (const denom of [1, 2, 8]) {
      const height = run(k, b, denom, 1 << 30).status === 0 ? k.outHeight() : 0;
      for (const from of [1, 9, Math.floor(height / 2), height - 1].filter((r) => r > 0 && r < height)) {
        // The whole decode's rows from `from` (taken through the same ring) against the skipping decode's.
        const whole = run(k, b, denom, 2, 3, 0, from);
        const rowsFrom = run(k, b, denom, 2, 3, from);
        expect({ ...rowsFrom, calls: 0 }).toEqual({ ...whole, calls: 0 });
      }
    }
  });

  it.each(FILES.filter(([n]) => n.includes('restart') || n.startsWith('progressive')))(
    '%s truncated or with a flipped byte: the same status whatever the band size',
    async (_, bytes) => {
      const k = await stepper();
      const b = bytes();
      const damaged = [b.subarray(0, b.length >> 1), b.subarray(0, b.length - 3)];
      for (let at = b.length >> 2; at < b.length - 2; at += 97) {
        const d = b.slice();
        d[at] ^= 0x5a;
        damaged.push(d);
      }
      for (const d of damaged) {
        const whole = run(k, d, 1, 1 << 30);
        expect({ ...run(k, d, 1, 1), calls: 0 }).toEqual({ ...whole, calls: 0 });
        expect(run(k, d, 2, 2).status).toBe(run(k, d, 2, 1 << 30).status);
        expect(run(k, d, 2, 2, 3).status).toBe(run(k, d, 2, 1 << 30).status);
      }
    },
  );

  it('a 4:2:0 MCU row per band: a 2725x2225 photo takes one call per 16 pixel rows', async () => {
    const k = await stepper();
    // ceil(2225 / 16) = 140 MCU rows; the first call also reads the headers.
    expect(run(k, image('2569067123_aca715a2ee_o.jpg'), 1, 1).calls).toBe(140);
  });

  it('step() after the end is refused rather than decoding again', async () => {
    const k = await stepper();
    const b = image('flowers.jpeg');
    expect(run(k, b, 8, 4).status).toBe(0);
    expect(k.step(4)).not.toBe(0);
    expect(k.step(4)).not.toBe(k.IN_PROGRESS.value);
  });
});

describe('working memory', () => {
  it('a full-size decode needs the input, the RGBA output and a few MCU rows of planes, no whole-image planes', async () => {
    resetJpegDecoder();
    const b = image('2569067123_aca715a2ee_o.jpg');
    const header = inspect(b);
    const out = await decodeBaselineJpeg(b, header, 1);
    expect(out && [out.width, out.height]).toEqual([2725, 2225]);
    // Whole-image planes would add 2736x2224 luma and two 1368x1112 chroma samples (~9 MB).
    const bound = b.byteLength + 2725 * 2225 * 4 + 2 * 1024 * 1024;
    expect(jpegDecoderStats().memoryBytes).toBeLessThan(bound);
  });
});
