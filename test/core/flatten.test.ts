/**
 * flatten (src/image.ts), which every JPEG output of a transparent image goes through: its integer
 * arithmetic must give the value the straightforward float formula stored in a Uint8ClampedArray
 * gives, for every colour, alpha and background, on the 32-bit path and the byte path alike.
 */
import { describe, expect, it } from 'vitest';
import { flatten } from '../../src/image.js';

/** Every (colour, alpha) pair once: 256 x 256 pixels, colour in R, G and B rotated so each channel sees all. */
function allPairs(offset: number): { width: number; height: number; data: Uint8ClampedArray } {
  const bytes = new Uint8ClampedArray(offset + 256 * 256 * 4);
  const data = bytes.subarray(offset);
  for (let a = 0; a < 256; a++) {
    for (let c = 0; c < 256; c++) {
      const i = (a * 256 + c) * 4;
      data.set([c, (c + 85) & 255, (c + 170) & 255, a], i);
    }
  }
  return { width: 256, height: 256, data };
}

function reference(src: Uint8ClampedArray, [br, bg, bb]: readonly [number, number, number]): Uint8ClampedArray {
  const out = new Uint8ClampedArray(src.length);
  for (let i = 0; i < src.length; i += 4) {
    const a = src[i + 3], ia = 255 - a;
    out[i] = (src[i] * a + br * ia + 127) / 255;
    out[i + 1] = (src[i + 1] * a + bg * ia + 127) / 255;
    out[i + 2] = (src[i + 2] * a + bb * ia + 127) / 255;
    out[i + 3] = 255;
  }
  return out;
}

describe('flatten', () => {
  it.each([
    [[255, 255, 255], 0],
    [[0, 0, 0], 0],
    [[17, 128, 254], 0],
    [[255, 255, 255], 1], // a view not on a 4-byte boundary takes the byte path
    [[3, 200, 99], 2],
  ] as const)('onto %o (data offset %i): the float formula rounded, for every colour and alpha', (background, offset) => {
    const image = allPairs(offset);
    const flat = flatten(image, background);
    expect(flat.width).toBe(256);
    expect(flat.height).toBe(256);
    expect(Buffer.compare(Buffer.from(flat.data), Buffer.from(reference(image.data, background)))).toBe(0);
  });
});
