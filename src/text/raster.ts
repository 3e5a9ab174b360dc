/**
 * Anti-aliased rasterisation of glyph outlines by exact area coverage.
 *
 * Curves are flattened into line segments (finely enough that the error stays under 1/50 of a
 * pixel), and each segment adds its signed area to an accumulation buffer, cell by cell, as in
 * font-rs and stb_truetype 2: one running sum along each row then gives every pixel's winding-weighted
 * coverage. Taking |sum| clamped to 1 is the non-zero rule: pixels inside two same-direction contours
 * (overlapping strokes of a variable font's glyph, or of two kerned glyphs drawn together) stay fully
 * covered, and counter-wound holes (the inside of an "o") come out empty. Unlike supersampling this is
 * exact for straight edges at any angle, and it touches each pixel once, so cost grows with the outline
 * length plus the area, not with a sample count.
 */
import type { PathCommand } from 'opentype.js/dist/opentype.mjs';

/** A coverage bitmap: 0 = outside, 255 = fully inside. `left`/`top` place it in the drawing's pixel space. */
export interface CoverageMask {
  readonly width: number;
  readonly height: number;
  readonly left: number;
  readonly top: number;
  readonly data: Uint8Array;
}

/** Affine map [a, b, c, d, e, f]: x' = a·x + c·y + e, y' = b·x + d·y + f (the canvas/SVG order). */
export type Affine = readonly [number, number, number, number, number, number];

/** One outline to draw: commands in their own units, and the map from those units to pixels. */
export interface OutlinePart {
  readonly commands: readonly PathCommand[];
  readonly transform: Affine;
}

/**
 * Largest deviation, in pixels, allowed between a curve and its flattened chords. Chords cut inside
 * convex curves, so this is also a systematic loss of coverage along every curved edge: at 0.02 px it
 * is under 5/255 of one edge pixel, below what 8-bit coverage can show.
 */
const FLATNESS = 0.02;
/** Cap on the pieces one curve is cut into: a 1000 px glyph's longest curve needs far fewer. */
const MAX_PIECES = 128;

const EMPTY_MASK: CoverageMask = Object.freeze({ width: 0, height: 0, left: 0, top: 0, data: new Uint8Array(0) });

/** A growable list of line segments x0, y0, x1, y1 in pixel space, with their bounding box. */
class SegmentList {
  data = new Float64Array(256);
  length = 0;
  minX = Infinity;
  minY = Infinity;
  maxX = -Infinity;
  maxY = -Infinity;

  add(x0: number, y0: number, x1: number, y1: number): void {
    // Horizontal segments add no area: skip them here rather than in the hot loop.
    if (y0 === y1) return;
    if (this.length + 4 > this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    const d = this.data;
    d[this.length++] = x0;
    d[this.length++] = y0;
    d[this.length++] = x1;
    d[this.length++] = y1;
    if (x0 < this.minX) this.minX = x0;
    if (x1 < this.minX) this.minX = x1;
    if (x0 > this.maxX) this.maxX = x0;
    if (x1 > this.maxX) this.maxX = x1;
    if (y0 < this.minY) this.minY = y0;
    if (y1 < this.minY) this.minY = y1;
    if (y0 > this.maxY) this.maxY = y0;
    if (y1 > this.maxY) this.maxY = y1;
  }
}

function pieces(deviation: number): number {
  const n = Math.ceil(Math.sqrt(deviation / FLATNESS));
  return n < 1 ? 1 : n > MAX_PIECES ? MAX_PIECES : n;
}

/** Flatten one outline (closing every contour, as fonts leave some implicitly open) into `out`. */
function flatten(part: OutlinePart, out: SegmentList): void {
  const [a, b, c, d, e, f] = part.transform;
  let sx = 0, sy = 0; // contour start
  let px = 0, py = 0; // current point
  let open = false;
  const close = (): void => {
    if (open && (px !== sx || py !== sy)) out.add(px, py, sx, sy);
    open = false;
  };
  for (const cmd of part.commands) {
    switch (cmd.type) {
      case 'M':
        close();
        sx = px = a * cmd.x + c * cmd.y + e;
        sy = py = b * cmd.x + d * cmd.y + f;
        open = true;
        break;
      case 'L': {
        const x = a * cmd.x + c * cmd.y + e, y = b * cmd.x + d * cmd.y + f;
        out.add(px, py, x, y);
        px = x;
        py = y;
        break;
      }
      case 'Q': {
        const x1 = a * cmd.x1 + c * cmd.y1 + e, y1 = b * cmd.x1 + d * cmd.y1 + f;
        const x = a * cmd.x + c * cmd.y + e, y = b * cmd.x + d * cmd.y + f;
        // A quadratic's chords of parameter length 1/n stray at most |p0 - 2p1 + p2| / (4n²).
        const n = pieces(Math.hypot(px - 2 * x1 + x, py - 2 * y1 + y) / 4);
        let lx = px, ly = py;
        for (let i = 1; i <= n; i++) {
          const t = i / n, mt = 1 - t;
          const nx = mt * mt * px + 2 * mt * t * x1 + t * t * x;
          const ny = mt * mt * py + 2 * mt * t * y1 + t * t * y;
          out.add(lx, ly, nx, ny);
          lx = nx;
          ly = ny;
        }
        px = x;
        py = y;
        break;
      }
      case 'C': {
        const x1 = a * cmd.x1 + c * cmd.y1 + e, y1 = b * cmd.x1 + d * cmd.y1 + f;
        const x2 = a * cmd.x2 + c * cmd.y2 + e, y2 = b * cmd.x2 + d * cmd.y2 + f;
        const x = a * cmd.x + c * cmd.y + e, y = b * cmd.x + d * cmd.y + f;
        // A cubic's second derivative is bounded by 6·max|second differences|; chords stray ≤ |B''|/(8n²).
        const dd = Math.max(Math.hypot(px - 2 * x1 + x2, py - 2 * y1 + y2), Math.hypot(x1 - 2 * x2 + x, y1 - 2 * y2 + y));
        const n = pieces((dd * 3) / 4);
        let lx = px, ly = py;
        for (let i = 1; i <= n; i++) {
          const t = i / n, mt = 1 - t;
          const w0 = mt * mt * mt, w1 = 3 * mt * mt * t, w2 = 3 * mt * t * t, w3 = t * t * t;
          const nx = w0 * px + w1 * x1 + w2 * x2 + w3 * x;
          const ny = w0 * py + w1 * y1 + w2 * y2 + w3 * y;
          out.add(lx, ly, nx, ny);
          lx = nx;
          ly = ny;
        }
        px = x;
        py = y;
        break;
      }
      case 'Z':
        close();
        px = sx;
        py = sy;
        break;
    }
  }
  close();
}

/**
 * Add one line's signed area to the accumulation buffer `acc` (rows of `stride` cells, the line
 * already shifted so the mask's top-left is at 0,0). Each cell receives the area between the line and
 * the cell's right edge, split between the cell the line crosses and the one after it, so a running
 * sum along the row yields coverage.
 */
function accumulateLine(acc: Float32Array, stride: number, rows: number, x0: number, y0: number, x1: number, y1: number): void {
  let dir = 1;
  if (y0 > y1) {
    dir = -1;
    let t = x0; x0 = x1; x1 = t;
    t = y0; y0 = y1; y1 = t;
  }
  const dxdy = (x1 - x0) / (y1 - y0);
  let x = x0;
  const yStart = Math.max(0, Math.floor(y0));
  if (y0 < 0) x -= y0 * dxdy;
  const yEnd = Math.min(rows, Math.ceil(y1));
  for (let y = yStart; y < yEnd; y++) {
    const row = y * stride;
    const dy = Math.min(y + 1, y1) - Math.max(y, y0);
    const xNext = x + dxdy * dy;
    const d = dy * dir;
    const xa = x < xNext ? x : xNext;
    const xb = x < xNext ? xNext : x;
    const xaFloor = Math.floor(xa);
    const xai = xaFloor;
    const xbCeil = Math.ceil(xb);
    const xbi = xbCeil;
    if (xbi <= xai + 1) {
      // The line stays within one cell on this row: its area splits at the mean x.
      const xmf = 0.5 * (x + xNext) - xaFloor;
      acc[row + xai] += d - d * xmf;
      acc[row + xai + 1] += d * xmf;
    } else {
      // The line crosses several cells: triangle at each end, equal trapezoids between.
      const s = 1 / (xb - xa);
      const xaf = xa - xaFloor;
      const a0 = 0.5 * s * (1 - xaf) * (1 - xaf);
      const xbf = xb - xbCeil + 1;
      const am = 0.5 * s * xbf * xbf;
      acc[row + xai] += d * a0;
      if (xbi === xai + 2) {
        acc[row + xai + 1] += d * (1 - a0 - am);
      } else {
        const a1 = s * (1.5 - xaf);
        acc[row + xai + 1] += d * (a1 - a0);
        for (let xi = xai + 2; xi < xbi - 1; xi++) acc[row + xi] += d * s;
        const a2 = a1 + (xbi - xai - 3) * s;
        acc[row + xbi - 1] += d * (1 - a2 - am);
      }
      acc[row + xbi] += d * am;
    }
    x = xNext;
  }
}

/** A pixel rectangle in the drawing's pixel space. */
export interface PixelWindow {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/**
 * Accumulate a line that may leave the buffer sideways: it is cut where it crosses x = 0 and
 * x = width. What lies left of 0 is moved onto x = 0 (its area still counts in every running sum to
 * the right, exactly as if the buffer went on to the left); what lies right of `width` lands in the
 * spare cells, which no visible pixel sums.
 */
function accumulateClipped(acc: Float32Array, stride: number, width: number, rows: number, x0: number, y0: number, x1: number, y1: number): void {
  // Cut points (as fractions along the line, in its own direction: the sign of its area depends on it).
  const cuts = [0, 1];
  for (const edge of [0, width]) {
    if ((x0 < edge && x1 > edge) || (x0 > edge && x1 < edge)) cuts.push((edge - x0) / (x1 - x0));
  }
  cuts.sort((a, b) => a - b);
  for (let k = 0; k + 1 < cuts.length; k++) {
    const ya = y0 + (y1 - y0) * cuts[k], yb = y0 + (y1 - y0) * cuts[k + 1];
    // A piece with no height adds no area (and would divide by zero in accumulateLine).
    if (ya === yb) continue;
    const clamp = (x: number) => (x < 0 ? 0 : x > width ? width : x);
    accumulateLine(acc, stride, rows, clamp(x0 + (x1 - x0) * cuts[k]), ya, clamp(x0 + (x1 - x0) * cuts[k + 1]), yb);
  }
}

/**
 * Rasterise outlines (each with its own transform) into one coverage mask covering their ink, or,
 * with `window`, exactly that rectangle of it (ink outside it costs its segments, never pixels). The
 * window is how a watermark as large as 64 characters at 1000 px turned 45 degrees is drawn only
 * where it lands on the image: the full box would be a 41 000 px square.
 */
export function rasterize(parts: readonly OutlinePart[], window?: PixelWindow): CoverageMask {
  const segments = new SegmentList();
  for (const part of parts) flatten(part, segments);
  if (window && (window.width <= 0 || window.height <= 0)) return EMPTY_MASK;
  if (segments.length === 0) return window ? { ...window, data: new Uint8Array(window.width * window.height) } : EMPTY_MASK;
  const left = window ? window.left : Math.floor(segments.minX);
  const top = window ? window.top : Math.floor(segments.minY);
  const width = window ? window.width : Math.ceil(segments.maxX) - left || 1;
  const height = window ? window.height : Math.ceil(segments.maxY) - top || 1;
  // Two spare cells per row: a line touching the right edge spills its remaining area there.
  const stride = width + 2;
  const acc = new Float32Array(stride * height);
  const s = segments.data;
  for (let i = 0; i < segments.length; i += 4) {
    if (window) accumulateClipped(acc, stride, width, height, s[i] - left, s[i + 1] - top, s[i + 2] - left, s[i + 3] - top);
    else accumulateLine(acc, stride, height, s[i] - left, s[i + 1] - top, s[i + 2] - left, s[i + 3] - top);
  }
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    let sum = 0;
    const row = y * stride;
    const outRow = y * width;
    for (let x = 0; x < width; x++) {
      sum += acc[row + x];
      const cov = sum < 0 ? -sum : sum;
      data[outRow + x] = cov >= 1 ? 255 : (cov * 255 + 0.5) | 0;
    }
  }
  return { width, height, left, top, data };
}
