/**
 * The per-request cost budget: chains of legal steps that cost minutes are refused from the header,
 * before anything is decoded, with the budget named; ordinary chains are untouched.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import '../../entries/node.js';
import { transform } from '../../src/process/transform.js';
import { DEFAULT_OUTPUT_LIMITS } from '../../src/process/limits.js';
import { createFetchHandler } from '../../adapters/http/handler.js';
import { rejection } from '../helpers/errors.js';

const src = new Uint8Array(readFileSync(new URL('../fixtures/images/320x240.jpg', import.meta.url)));
const BIG = 'resize,w_4096,h_4096,m_fixed,limit_0';
const BLUR50 = 'blur,r_50,s_50';

describe('cost budget', () => {
  it('defaults to 1.5 billion pixel passes', () => {
    expect(DEFAULT_OUTPUT_LIMITS.maxCost).toBe(1_500_000_000);
  });

  // Decode and the resize cost 218257408; a blur,r_50 on 4096x4096 (4 + 202 / 7 passes a pixel on the
  // SIMD kernel) 551251383, a blur,r_30 359511772, a sharpen 7 x 4096 x 4096.
  it.each([
    [`image/${BIG}/${BLUR50}/${BLUR50}/${BLUR50}`, 'blur on 4096x4096 brings it to 1872011557'],
    // Refused at the eleventh.
    [`image/${BIG}/${Array(19).fill('sharpen,399').join('/')}`, 'sharpen on 4096x4096 brings it to 1510103040'],
    [`image/${BIG}/blur,r_30/blur,r_30/blur,r_30/blur,r_30`, 'blur on 4096x4096 brings it to 1656304496'],
  ])('refuses %s before decoding', async (process, where) => {
    expect(await rejection(transform(src, process))).toEqual({
      code: 'IMAGE_TOO_LARGE',
      message: `Expected the process to cost at most 1500000000 pixel passes (outputLimits.maxCost) but ${where}`,
    });
  });

  it('prices decode, each step at the size it gets, and the encode', async () => {
    // decode 76800 + blur r_5 (4 + 2 x 11 / 7 passes) x 76800 = 625372 > 600000.
    expect(await rejection(transform(src, 'image/blur,r_5', { outputLimits: { maxCost: 600_000 } }))).toEqual({
      code: 'IMAGE_TOO_LARGE',
      message: 'Expected the process to cost at most 600000 pixel passes (outputLimits.maxCost) but blur on 320x240 brings it to 625372',
    });
    // A resize first makes the blur cheap: it is priced at 100x75.
    const out = await transform(src, 'image/resize,w_100/blur,r_5', { outputLimits: { maxCost: 600_000 } });
    expect([out.width, out.height]).toEqual([100, 75]);
  });

  it('leaves ordinary chains alone', async () => {
    const out = await transform(src, 'image/resize,w_2000,limit_0/sharpen,100/blur,r_10/watermark,text_aW1ncGlwZQ/format,webp');
    expect([out.width, out.height]).toEqual([2000, 1500]);
  });

  it('answers 400 ImageTooLarge over HTTP, naming the budget', async () => {
    const handler = createFetchHandler({ source: { get: async () => ({ bytes: src }) } });
    const res = await handler(new Request(`http://h/a.jpg?x-oss-process=${encodeURIComponent(`image/${BIG}/${BLUR50}/${BLUR50}/${BLUR50}`)}`));
    expect(res.status).toBe(400);
    const xml = await res.text();
    expect(xml).toContain('<Code>ImageTooLarge</Code>');
    expect(xml).toContain('(outputLimits.maxCost)');
  });
});
