import { describe, expect, it } from 'vitest';
import { codedLength, convEncode, crc24, listViterbi } from '../../src/ops/blindmark/coding.js';
import { rng } from '../../bench/fuzz.js';

const message = (seed: number, n: number): Uint8Array => {
  const r = rng(seed);
  return Uint8Array.from({ length: n }, () => (r() < 0.5 ? 1 : 0));
};
/** Soft values of a codeword: +1 for a 1, -1 for a 0, plus Gaussian noise of the given sigma. */
const noisy = (coded: Uint8Array, sigma: number, seed: number): Float64Array => {
  const r = rng(seed);
  return Float64Array.from(coded, (b) => (b ? 1 : -1) + sigma * Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r()));
};

describe('blind watermark channel code', () => {
  it('encodes n bits into 2(n + 6) and decodes a clean codeword first in the list', () => {
    const bits = message(1, 88);
    const coded = convEncode(bits);
    expect(coded.length).toBe(codedLength(88));
    const paths = listViterbi(noisy(coded, 0, 2), 88, 8);
    expect(paths).toHaveLength(8);
    expect(Array.from(paths[0])).toEqual(Array.from(bits));
    // every path is a different message
    expect(new Set(paths.map((p) => p.join(''))).size).toBe(8);
  });

  it('ranks paths by their correlation with the soft values, best first', () => {
    const soft = noisy(convEncode(message(3, 40)), 1, 4);
    const score = (p: Uint8Array): number => convEncode(p).reduce((s, b, i) => s + (b ? soft[i] : -soft[i]), 0);
    const scores = listViterbi(soft, 40, 12).map(score);
    for (let i = 1; i < scores.length; i++) expect(scores[i]).toBeLessThanOrEqual(scores[i - 1] + 1e-9);
  });

  it('finds the sent message lower in the list when noise puts a wrong path first, and the CRC tells them apart', () => {
    // frames of 64 data bits + CRC-24 at a noise level where plain Viterbi fails about one frame in three
    let first = 0, inList = 0, wrongCrc = 0;
    for (let seed = 0; seed < 60; seed++) {
      const data = message(100 + seed, 64);
      const crc = crc24(data);
      const bits = new Uint8Array(88);
      bits.set(data);
      for (let i = 0; i < 24; i++) bits[64 + i] = (crc >> (23 - i)) & 1;
      const paths = listViterbi(noisy(convEncode(bits), 0.9, 200 + seed), 88, 16);
      const passes = paths.filter((p) => {
        let c = 0;
        for (let i = 0; i < 24; i++) c = (c << 1) | p[64 + i];
        return crc24(p.subarray(0, 64)) === c;
      });
      if (paths[0].join('') === bits.join('')) first++;
      if (passes[0]?.join('') === bits.join('')) inList++;
      else if (passes.length > 0) wrongCrc++;
    }
    expect(wrongCrc).toBe(0);
    expect(first).toBeLessThan(50);
    expect(inList).toBeGreaterThanOrEqual(first + 8);
  });
});
