/**
 * One spec per parameter: every parameter the x-oss-process grammar shares with a typed op is the op
 * file's own spec (the same object), and the op called directly and the process string accept and
 * refuse exactly the same values, with the same "Expected ... for <action>.<param>" words.
 */
import { describe, expect, it } from 'vitest';
import '../../entries/node.js';
import { ACTIONS, type ActionName } from '../../src/process/actions.js';
import { parseProcess } from '../../src/process/parse.js';
import { createImage, type RGBAImage } from '../../src/image.js';
import { BLUR_PARAMS, blur } from '../../src/ops/blur.js';
import { SHARPEN_PARAMS, sharpen } from '../../src/ops/sharpen.js';
import { BRIGHT_PARAMS, bright } from '../../src/ops/bright.js';
import { CONTRAST_PARAMS, contrast } from '../../src/ops/contrast.js';
import { CIRCLE_PARAMS, circle } from '../../src/ops/circle.js';
import { ROUNDED_CORNERS_PARAMS, roundedCorners } from '../../src/ops/rounded-corners.js';
import { ROTATE_PARAMS, rotate } from '../../src/ops/rotate.js';
import { FLIP_PARAMS, flip, type FlipAxis } from '../../src/ops/flip.js';
import { CROP_PARAMS, anchoredRect } from '../../src/ops/crop.js';
import { INDEXCROP_PARAMS, indexCrop } from '../../src/ops/indexcrop.js';
import { RESIZE_PARAMS, resizeTarget } from '../../src/ops/resize.js';
import { WATERMARK_PARAMS, validateWatermark, type WatermarkOptions } from '../../src/ops/watermark.js';
import { BLIND_WATERMARK_PARAMS, embedBlindWatermark } from '../../src/ops/blind-watermark.js';
import { flag, hex6, type OpParams, type ParamSpec } from '../../src/spec.js';
import { isImgpipeError } from '../../src/errors.js';

type Call = (image: RGBAImage, value: never) => unknown;
const img = createImage(8, 8, 0x336699ff);
const wide = createImage(30_000, 1);
const wm = (key: keyof WatermarkOptions): Call => (_i, v) => validateWatermark({ text: 'a', [key]: v });
/** The smallest image the blind watermark embeds into (80 px a side, IMM's rule). */
const markable = createImage(96, 96, 0x808080ff);

/** action -> [the op file's params, { param -> the typed call that takes it }, what else the string needs]. */
const TABLE: Partial<Record<ActionName, [OpParams, Record<string, Call>, ((param: string) => string | undefined)?]>> = {
  blur: [BLUR_PARAMS, { r: (i, v) => blur(i, { radius: v }), s: (i, v) => blur(i, { sigma: v }) }],
  sharpen: [SHARPEN_PARAMS, { value: (i, v) => sharpen(i, v) }],
  bright: [BRIGHT_PARAMS, { value: (i, v) => bright(i, v) }],
  contrast: [CONTRAST_PARAMS, { value: (i, v) => contrast(i, v) }],
  circle: [CIRCLE_PARAMS, { r: (i, v) => circle(i, v) }],
  'rounded-corners': [ROUNDED_CORNERS_PARAMS, { r: (i, v) => roundedCorners(i, v) }],
  rotate: [ROTATE_PARAMS, { value: (i, v) => rotate(i, v) }],
  flip: [FLIP_PARAMS, { value: (i, v: FlipAxis) => flip(i, v) }],
  crop: [CROP_PARAMS, Object.fromEntries((['w', 'h', 'x', 'y', 'g'] as const).map((k) => [k, (i: RGBAImage, v: never) => anchoredRect(i.width, i.height, { [k]: v })]))],
  indexcrop: [INDEXCROP_PARAMS, {
    x: (_i, v) => indexCrop(wide, { axis: 'x', size: v, index: 0 }),
    y: (_i, v) => indexCrop(createImage(1, 30_000), { axis: 'y', size: v, index: 0 }),
    i: (i, v) => indexCrop(i, { axis: 'x', size: 1, index: v }),
  }, (p) => (p === 'i' ? 'x_1' : undefined)],
  resize: [{ w: RESIZE_PARAMS.w, h: RESIZE_PARAMS.h }, { w: (_i, v) => resizeTarget(10, 10, { width: v }), h: (_i, v) => resizeTarget(10, 10, { height: v }) }],
  watermark: [
    Object.fromEntries(Object.entries(WATERMARK_PARAMS).filter(([k]) => k !== 'P')),
    {
      t: wm('opacity'), g: wm('gravity'), x: wm('x'), y: wm('y'), voffset: wm('voffset'), fill: wm('fill'), padx: wm('padx'), pady: wm('pady'),
      color: wm('color'), size: wm('size'), shadow: wm('shadow'), rotate: wm('rotate'), order: wm('order'), align: wm('align'), interval: wm('interval'),
    },
    () => 'text_YQ',
  ],
  // content (Base64 in the string, text in the typed options) and q (the written JPEG's quality) are the grammar's own.
  blindwatermark: [{ s: BLIND_WATERMARK_PARAMS.s }, { s: (_i, v) => embedBlindWatermark(markable, { content: 'a', strength: v }) }, () => 'content_YQ'],
};

/** Values on both sides of each edge of a spec, as [raw string, typed value]. */
function samples(spec: ParamSpec<unknown>): { good: [string, unknown][]; bad: [string, unknown][] } {
  if (spec === flag) return { good: [['0', false], ['1', true]], bad: [['2', 2]] };
  if (spec === hex6) return { good: [['FF8800', 'FF8800'], ['00aa00', '00aa00']], bad: [['red', 'red'], ['#FF8800', '#FF8800']] };
  const range = /^(-?\d+)\.\.(-?\d+)$/.exec(spec.range);
  if (range) {
    const [min, max] = [Number(range[1]), Number(range[2])];
    return { good: [[String(min), min], [String(max), max]], bad: [[String(min - 1), min - 1], [String(max + 1), max + 1]] };
  }
  const words = spec.range.split(' \\| ');
  const numeric = spec.check(Number(words[0])) !== undefined;
  const typed = (w: string) => (numeric ? Number(w) : w);
  return { good: words.map((w) => [w, typed(w)]), bad: [[numeric ? '9' : 'nope', numeric ? 9 : 'nope']] };
}

/** The message of the INVALID_ARGUMENT `run` throws or rejects with (an op may be async); undefined if it succeeds. */
async function refusal(run: () => unknown): Promise<string | undefined> {
  try {
    await run();
  } catch (e) {
    if (!isImgpipeError(e)) throw e;
    expect(e.code).toBe('INVALID_ARGUMENT');
    return e.message;
  }
  return undefined;
}

describe('typed ops and process strings share one spec per parameter', () => {
  for (const [action, [params, calls, extra]] of Object.entries(TABLE) as [ActionName, [OpParams, Record<string, Call>, ((param: string) => string | undefined)?]][]) {
    for (const [param, op] of Object.entries(params)) {
      it(`${action}.${param}`, async () => {
        const row = ACTIONS[action] as { params: Record<string, { spec: unknown }>; positional?: string };
        // The row is built from the op's own spec, not a copy of its range.
        expect(row.params[param].spec).toBe(op.spec);
        const call = calls[param];
        expect(call, `a typed call for ${action}.${param}`).toBeDefined();
        const token = (raw: string) => (param === row.positional ? raw : `${param}_${raw}`);
        const string = (raw: string) => `image/${[action, token(raw), extra?.(param)].filter(Boolean).join(',')}`;
        const { good, bad } = samples(op.spec as ParamSpec<unknown>);
        for (const [raw, typed] of good) {
          expect(await refusal(() => parseProcess(string(raw), { extensions: true })), `${string(raw)} accepted`).toBeUndefined();
          expect(await refusal(() => call(img, typed as never)), `${action}.${param} = ${String(typed)} accepted`).toBeUndefined();
        }
        for (const [raw, typed] of bad) {
          expect(await refusal(() => parseProcess(string(raw), { extensions: true }))).toBe(`Expected ${op.spec.expected} for ${action}.${param} but received "${raw}"`);
          // The same words, in the typed value's kind where that differs (a flag is a boolean).
          const words = op.spec.typed ?? op.spec.expected;
          expect(await refusal(() => call(img, typed as never))).toBe(`Expected ${words} for ${action}.${param} (${op.option ?? param}) but received ${JSON.stringify(typed)}`);
        }
      });
    }
  }

  it('covers every action whose parameters an op takes', () => {
    const covered = new Set(Object.keys(TABLE));
    // OSS-only: resize's modes (planned by process/resize-plan), the encoder settings, the JSON answers,
    // and extraction's IMM parameters (accepted, unused).
    for (const name of ['auto-orient', 'format', 'quality', 'interlace', 'info', 'average-hue', 'deblindwatermark']) covered.add(name);
    expect(Object.keys(ACTIONS).filter((a) => !covered.has(a))).toEqual([]);
  });

  it('blur: either parameter alone, the other from the 3-sigma rule, both ways', async () => {
    const detailed = createImage(24, 24);
    for (let i = 0; i < detailed.data.length; i++) detailed.data[i] = (i * 37) % 256;
    expect(await blur(detailed, { radius: 4 })).toEqual(await blur(detailed, { radius: 4, sigma: 2 }));
    expect(await blur(detailed, { sigma: 2 })).toEqual(await blur(detailed, { radius: 6, sigma: 2 }));
    expect(await blur(detailed, { sigma: 2 })).not.toEqual(await blur(detailed, { radius: 4, sigma: 2 }));
    const missing = (() => { try { blur(img, {}); } catch (e) { return e; } })();
    expect(missing).toMatchObject({ code: 'MISSING_ARGUMENT', message: 'Expected at least one of blur.r, blur.s but received none' });
    expect(() => parseProcess('image/blur')).toThrow('Expected at least one of blur.r, blur.s but received none');
  });
});
