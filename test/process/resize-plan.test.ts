/**
 * Exact sizes: a side the request names is exactly that many pixels (as OSS and sharp give), and the
 * other side is the exact aspect ratio rounded to the nearest pixel. Swept over every width and height
 * from 16 to 2000, every mode, on landscape and portrait sources of several aspect ratios.
 */
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { planResize } from '../../src/process/resize-plan.js';
import { parseProcess } from '../../src/process/parse.js';
import type { ParamsOf } from '../../src/process/actions.js';

const SOURCES: readonly (readonly [number, number])[] = [
  [3640, 2400], [2400, 3640], // the photo, and turned
  [300, 188], [188, 300], // small, odd ratio
  [4032, 3024], [3024, 4032], // 4:3 phone
  [1920, 1080], [1080, 1920], // 16:9
  [1000, 999], [2000, 301], // almost square, very wide
];
const MODES = ['lfit', 'mfit', 'fill', 'pad', 'fixed'] as const;
const SIDES = Array.from({ length: 2000 - 16 + 1 }, (_, i) => 16 + i);
/** The other sides a two-sided box is swept against. */
const PARTNERS = [16, 100, 333, 720, 1999];

function params(process: string): ParamsOf<'resize'> {
  const [op] = parseProcess(`image/${process}`);
  return op.params as ParamsOf<'resize'>;
}

/** `got` is `num / den` rounded to the nearest integer, halves up (checked in integers, no floats). */
function isNearest(got: number, num: number, den: number): boolean {
  const twice = 2 * (got * den - num); // 2·den·(got − exact)
  return got >= 1 ? (twice > -den && twice <= den) || (num * 2 < den && got === 1) : false;
}

/** Everything wrong with `scale` for a box `w x h` in `mode` on `W x H`; empty when it follows the rule. */
function violations(W: number, H: number, w: number | undefined, h: number | undefined, mode: string, scale: { width: number; height: number }): string[] {
  const bad: string[] = [];
  if (w === undefined || h === undefined) {
    if (w !== undefined && (scale.width !== w || !isNearest(scale.height, H * w, W))) bad.push('w only');
    if (h !== undefined && (scale.height !== h || !isNearest(scale.width, W * h, H))) bad.push('h only');
    return bad;
  }
  if (mode === 'fixed') return scale.width === w && scale.height === h ? [] : ['fixed'];
  // The binding side (smaller ratio to fit inside, larger to cover) is exact; the other is nearest.
  const widthBinds = mode === 'lfit' || mode === 'pad' ? w * H <= h * W : w * H >= h * W;
  if (widthBinds ? scale.width !== w || !isNearest(scale.height, H * w, W) : scale.height !== h || !isNearest(scale.width, W * h, H)) bad.push(mode);
  return bad;
}

describe('planResize gives exact sizes', () => {
  for (const [W, H] of SOURCES) {
    it(`${W}x${H}: w_ and h_ alone in every mode, every side 16..2000`, () => {
      const failures: string[] = [];
      for (const mode of MODES) {
        for (const n of SIDES) {
          for (const [w, h] of [[n, undefined], [undefined, n]] as const) {
            const box = w !== undefined ? `w_${w}` : `h_${h}`;
            const plan = planResize(W, H, params(`resize,m_${mode},${box},limit_0`));
            const scale = plan.scale ?? { width: W, height: H };
            expect(plan.canvas).toBeUndefined();
            const bad = violations(W, H, w, h, mode, scale);
            if (bad.length) failures.push(`${box} m_${mode} -> ${scale.width}x${scale.height}`);
          }
        }
      }
      expect(failures).toEqual([]);
    });

    it(`${W}x${H}: boxes in every mode, every width and every height 16..2000`, () => {
      const failures: string[] = [];
      for (const mode of MODES) {
        for (const n of SIDES) {
          for (const k of PARTNERS) {
            for (const [w, h] of [[n, k], [k, n]]) {
              const plan = planResize(W, H, params(`resize,m_${mode},w_${w},h_${h},limit_0`));
              const scale = plan.scale ?? { width: W, height: H };
              if (violations(W, H, w, h, mode, scale).length) failures.push(`w_${w},h_${h} m_${mode} -> ${scale.width}x${scale.height}`);
              // fill crops and pad pads to exactly the box; lfit/mfit/fixed have no canvas.
              const canvas = plan.canvas ?? { width: scale.width, height: scale.height };
              if ((mode === 'fill' || mode === 'pad') && (canvas.width !== w || canvas.height !== h)) failures.push(`w_${w},h_${h} m_${mode} canvas ${canvas.width}x${canvas.height}`);
            }
          }
        }
      }
      expect(failures).toEqual([]);
    });

    it(`${W}x${H}: l_ and s_ name the longer and shorter side, every side 16..2000`, () => {
      const failures: string[] = [];
      const landscape = W >= H;
      for (const n of SIDES) {
        for (const side of ['l', 's'] as const) {
          const plan = planResize(W, H, params(`resize,${side}_${n},limit_0`));
          const scale = plan.scale ?? { width: W, height: H };
          const onWidth = (side === 'l') === landscape;
          if (violations(W, H, onWidth ? n : undefined, onWidth ? undefined : n, 'lfit', scale).length) failures.push(`${side}_${n} -> ${scale.width}x${scale.height}`);
        }
      }
      expect(failures).toEqual([]);
    });
  }

  it('the examples that came out one short', () => {
    expect(planResize(3640, 2400, params('resize,w_800'))).toEqual({ scale: { width: 800, height: 527 } });
    expect(planResize(300, 188, params('resize,w_200'))).toEqual({ scale: { width: 200, height: 125 } });
    expect(planResize(2400, 3640, params('resize,h_800'))).toEqual({ scale: { width: 527, height: 800 } });
  });

  it('percentages scale both sides; with a box they scale the box, whose sides are then exact', () => {
    expect(planResize(3640, 2400, params('resize,p_50'))).toEqual({ scale: { width: 1820, height: 1200 } });
    expect(planResize(300, 188, params('resize,p_33'))).toEqual({ scale: { width: 99, height: 62 } });
    expect(planResize(3640, 2400, params('resize,w_1600,p_50'))).toEqual({ scale: { width: 800, height: 527 } });
  });

  it('limit_1 returns the source when the exact size would enlarge it', () => {
    expect(planResize(300, 188, params('resize,w_301'))).toEqual({});
    expect(planResize(300, 188, params('resize,w_300'))).toEqual({});
    expect(planResize(300, 188, params('resize,w_299')).scale).toEqual({ width: 299, height: 187 });
  });

  it("agrees with sharp's resize dimensions (ties at exactly .5 aside, where libvips's float scale lands either way)", async () => {
    const cases: [number, number, number | undefined, number | undefined, 'inside' | 'outside'][] = [];
    for (const [W, H] of SOURCES.slice(0, 4)) {
      for (const n of [16, 17, 150, 199, 200, 333, 527, 720, 800, 1001, 1999]) {
        cases.push([W, H, n, undefined, 'inside'], [W, H, undefined, n, 'inside'], [W, H, n, 500, 'inside'], [W, H, n, 500, 'outside']);
      }
    }
    const blanks = new Map<string, Buffer>();
    let compared = 0;
    for (const [W, H, w, h, fit] of cases) {
      const key = `${W}x${H}`;
      if (!blanks.has(key)) blanks.set(key, await sharp({ create: { width: W, height: H, channels: 3, background: '#808080' } }).raw().toBuffer());
      const { info } = await sharp(blanks.get(key)!, { raw: { width: W, height: H, channels: 3 } }).resize({ width: w, height: h, fit }).raw().toBuffer({ resolveWithObject: true });
      const mode = w !== undefined && h !== undefined ? (fit === 'inside' ? 'lfit' : 'mfit') : 'lfit';
      const box = [w !== undefined ? `w_${w}` : '', h !== undefined ? `h_${h}` : ''].filter(Boolean).join(',');
      const plan = planResize(W, H, params(`resize,m_${mode},${box},limit_0`));
      const ours = plan.scale ?? { width: W, height: H };
      const tie = [H * (w ?? 0) * 2 % W, W * (h ?? 0) * 2 % H].some((r, i) => r === 0 && ((i === 0 ? H * (w ?? 0) : W * (h ?? 0)) % (i === 0 ? W : H)) !== 0);
      if (tie) continue;
      compared++;
      expect(`${box} ${fit} on ${key}: ${ours.width}x${ours.height}`).toBe(`${box} ${fit} on ${key}: ${info.width}x${info.height}`);
    }
    expect(compared).toBeGreaterThan(150);
  }, 120_000);
});
