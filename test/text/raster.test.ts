/** The coverage rasteriser against shapes whose exact pixel coverage is known analytically. */
import { describe, expect, it } from 'vitest';
import type { PathCommand } from 'opentype.js/dist/opentype.mjs';
import { rasterize, type Affine } from '../../src/text/raster.js';

const IDENTITY: Affine = [1, 0, 0, 1, 0, 0];
const rect = (x0: number, y0: number, x1: number, y1: number, clockwise = true): PathCommand[] => clockwise
  ? [{ type: 'M', x: x0, y: y0 }, { type: 'L', x: x1, y: y0 }, { type: 'L', x: x1, y: y1 }, { type: 'L', x: x0, y: y1 }, { type: 'Z' }]
  : [{ type: 'M', x: x0, y: y0 }, { type: 'L', x: x0, y: y1 }, { type: 'L', x: x1, y: y1 }, { type: 'L', x: x1, y: y0 }, { type: 'Z' }];

function at(mask: ReturnType<typeof rasterize>, x: number, y: number): number {
  const cx = x - mask.left, cy = y - mask.top;
  if (cx < 0 || cy < 0 || cx >= mask.width || cy >= mask.height) return 0;
  return mask.data[cy * mask.width + cx];
}

/** Area enclosed by a closed outline, by the shoelace formula over densely sampled curves. */
function curveArea(commands: PathCommand[]): number {
  const pts: [number, number][] = [];
  let px = 0, py = 0;
  for (const c of commands) {
    if (c.type === 'Z') continue;
    if (c.type === 'M' || c.type === 'L') pts.push([(px = c.x), (py = c.y)]);
    else for (let i = 1; i <= 1000; i++) {
      const t = i / 1000, u = 1 - t;
      const p: [number, number] = c.type === 'Q'
        ? [u * u * px + 2 * u * t * c.x1 + t * t * c.x, u * u * py + 2 * u * t * c.y1 + t * t * c.y]
        : [u ** 3 * px + 3 * u * u * t * c.x1 + 3 * u * t * t * c.x2 + t ** 3 * c.x, u ** 3 * py + 3 * u * u * t * c.y1 + 3 * u * t * t * c.y2 + t ** 3 * c.y];
      pts.push(p);
      if (i === 1000) [px, py] = [c.x, c.y];
    }
  }
  let a = 0;
  for (let i = 0; i < pts.length; i++) {
    const [x0, y0] = pts[i], [x1, y1] = pts[(i + 1) % pts.length];
    a += x0 * y1 - x1 * y0;
  }
  return Math.abs(a) / 2;
}

describe('rasterize', () => {
  it('gives fractional edges their exact area', () => {
    // 0.5..3.25 horizontally: left column half covered, right column a quarter.
    const m = rasterize([{ commands: rect(0.5, 1, 3.25, 3), transform: IDENTITY }]);
    expect([m.left, m.top, m.width, m.height]).toEqual([0, 1, 4, 2]);
    expect([at(m, 0, 1), at(m, 1, 1), at(m, 2, 1), at(m, 3, 1)]).toEqual([128, 255, 255, 64]);
  });

  it('covers a diagonal edge by half in every pixel it crosses', () => {
    const tri: PathCommand[] = [{ type: 'M', x: 0, y: 0 }, { type: 'L', x: 8, y: 8 }, { type: 'L', x: 0, y: 8 }, { type: 'Z' }];
    const m = rasterize([{ commands: tri, transform: IDENTITY }]);
    for (let i = 0; i < 8; i++) {
      expect(at(m, i, i)).toBe(128);
      if (i > 0) expect(at(m, i - 1, i)).toBe(255);
      if (i < 7) expect(at(m, i + 1, i)).toBe(0);
    }
  });

  it('applies the non-zero rule: counter-wound holes are empty, same-wound overlaps are full', () => {
    const hole = rasterize([{ commands: [...rect(0, 0, 10, 10), ...rect(3, 3, 7, 7, false)], transform: IDENTITY }]);
    expect(at(hole, 5, 5)).toBe(0);
    expect(at(hole, 1, 1)).toBe(255);
    const overlap = rasterize([{ commands: [...rect(0, 0, 10, 10), ...rect(3, 3, 7, 7)], transform: IDENTITY }]);
    expect(at(overlap, 5, 5)).toBe(255);
  });

  it('flattens curves closely: a circle of quadratics and one of cubics both have area πr²', () => {
    const r = 20, c = 25, k = 0.5522847498; // cubic circle constant
    const quads: PathCommand[] = [{ type: 'M', x: c + r, y: c }];
    const steps = 8;
    for (let i = 1; i <= steps; i++) {
      const a0 = ((i - 1) / steps) * 2 * Math.PI, a1 = (i / steps) * 2 * Math.PI, am = (a0 + a1) / 2;
      const rc = r / Math.cos(Math.PI / steps); // control point radius of a tangent quadratic arc
      quads.push({ type: 'Q', x1: c + rc * Math.cos(am), y1: c + rc * Math.sin(am), x: c + r * Math.cos(a1), y: c + r * Math.sin(a1) });
    }
    const cubics: PathCommand[] = [
      { type: 'M', x: c + r, y: c },
      { type: 'C', x1: c + r, y1: c + k * r, x2: c + k * r, y2: c + r, x: c, y: c + r },
      { type: 'C', x1: c - k * r, y1: c + r, x2: c - r, y2: c + k * r, x: c - r, y: c },
      { type: 'C', x1: c - r, y1: c - k * r, x2: c - k * r, y2: c - r, x: c, y: c - r },
      { type: 'C', x1: c + k * r, y1: c - r, x2: c + r, y2: c - k * r, x: c + r, y: c },
      { type: 'Z' },
    ];
    for (const commands of [quads, cubics]) {
      const m = rasterize([{ commands, transform: IDENTITY }]);
      const area = m.data.reduce((s, v) => s + v, 0) / 255;
      // Against the exact area enclosed by these curves (shoelace over 1000 samples per curve, far
      // finer than the rasteriser's 0.1 px flattening), and against πr², which they approximate.
      expect(Math.abs(area - curveArea(commands)) / area).toBeLessThan(0.002);
      expect(Math.abs(area - Math.PI * r * r) / (Math.PI * r * r)).toBeLessThan(0.005);
      expect(at(m, c, c)).toBe(255);
      expect(at(m, c + r + 1, c)).toBe(0);
    }
  });

  it('maps outlines through the transform (scale, flip, rotation)', () => {
    // A 1×1 unit square scaled by 4 and rotated 90° clockwise lands at x −4..0, y 0..4.
    const m = rasterize([{ commands: rect(0, 0, 1, 1), transform: [0, 4, -4, 0, 0, 0] }]);
    expect([m.left, m.top, m.width, m.height]).toEqual([-4, 0, 4, 4]);
    expect(m.data.every((v) => v === 255)).toBe(true);
  });
});
