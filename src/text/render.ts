/**
 * Text to a coverage mask: glyphs rasterised once per (font, size, glyph, sub-pixel offset) and
 * kept in a bounded cache, then combined; rotated text is rasterised from the outlines in one pass so
 * it is as sharp as upright text (rotating a bitmap would blur it).
 */
import { LruCache } from './cache.js';
import type { LoadedFont } from './font.js';
import { layoutText, type TextLayout } from './layout.js';
import { rasterize, type Affine, type CoverageMask, type OutlinePart, type PixelWindow } from './raster.js';

/**
 * Horizontal pen positions are rounded to a quarter pixel: glyph spacing stays within 1/8 px of the
 * exact layout while one glyph needs at most four cached rasterisations per size.
 */
const SUBPIXEL_STEPS = 4;
/** Glyph cache budget in bytes of coverage: ~8 MB holds thousands of glyphs at watermark sizes. */
const GLYPH_CACHE_BYTES = 8 * 1024 * 1024;

const glyphCache = new LruCache<string, CoverageMask>(GLYPH_CACHE_BYTES);
let glyphRasterisations = 0;

/** Counters for tests and monitoring: cached glyph masks, their bytes, rasterisations so far. */
export function glyphCacheStats(): { entries: number; bytes: number; rasterisations: number } {
  return { entries: glyphCache.size, bytes: glyphCache.cost, rasterisations: glyphRasterisations };
}

/** Drop every cached glyph (for tests, or to release memory in a long-lived worker). */
export function clearGlyphCache(): void {
  glyphCache.clear();
}

/** Font units (y up) at `size` px/em, pen at (x, y) in pixels (y down). */
function glyphTransform(loaded: LoadedFont, size: number, x: number, y: number): Affine {
  const s = size / loaded.font.unitsPerEm;
  return [s, 0, 0, -s, x, y];
}

function cachedGlyph(loaded: LoadedFont, size: number, glyphIndex: number, commands: OutlinePart['commands'], step: number): CoverageMask {
  const key = `${loaded.id}:${size}:${glyphIndex}:${step}`;
  let mask = glyphCache.get(key);
  if (!mask) {
    mask = rasterize([{ commands, transform: glyphTransform(loaded, size, step / SUBPIXEL_STEPS, 0) }]);
    glyphRasterisations++;
    // Each entry also costs its key and object overhead: count that so tiny glyphs are not free.
    glyphCache.set(key, mask, mask.data.length + 64);
  }
  return mask;
}

/** A rendered line of text: its coverage over the text's box, and where the baseline falls. */
export interface TextMask extends CoverageMask {
  readonly layout: TextLayout;
}

/** Union of two coverages (a ∪ b = a + b − ab): overlapping glyphs never exceed full coverage. */
function unite(dst: Uint8Array, dstIndex: number, value: number): void {
  const old = dst[dstIndex];
  dst[dstIndex] = old === 0 ? value : old + value - ((old * value + 127) / 255 | 0);
}

/** The text's box (see `renderText`) and what drawing it needs, computed without drawing it. */
interface LineBox {
  readonly layout: TextLayout;
  readonly placed: readonly { mask: CoverageMask; x: number }[];
  /** The upright line box, from the pen origin on the baseline. */
  readonly left: number;
  readonly top: number;
  readonly right: number;
  readonly bottom: number;
  readonly angle: number;
  /** The box drawn: the upright one, or the bounds of it turned by `angle`. */
  readonly box: { readonly left: number; readonly top: number; readonly width: number; readonly height: number };
}

function lineBox(text: string, size: number, fonts: readonly LoadedFont[], rotate: number): LineBox {
  const layout = layoutText(text, size, fonts);
  // Upright glyph masks: needed for the upright result, and their ink extents bound the rotated one too.
  const placed: { mask: CoverageMask; x: number }[] = [];
  let left = 0, right = Math.ceil(layout.advance), top = -Math.ceil(layout.ascent), bottom = Math.ceil(layout.descent);
  for (const g of layout.glyphs) {
    const penX = Math.floor(g.x);
    const step = Math.round((g.x - penX) * SUBPIXEL_STEPS);
    const mask = cachedGlyph(g.font, size, g.glyph.index, g.glyph.path.commands, step);
    if (mask.width === 0) continue;
    placed.push({ mask, x: penX });
    left = Math.min(left, penX + mask.left);
    right = Math.max(right, penX + mask.left + mask.width);
    top = Math.min(top, mask.top);
    bottom = Math.max(bottom, mask.top + mask.height);
  }
  const width = Math.max(1, right - left), height = Math.max(1, bottom - top);
  right = left + width;
  bottom = top + height;
  const angle = ((rotate % 360) + 360) % 360;
  if (angle === 0) return { layout, placed, left, top, right, bottom, angle, box: { left, top, width, height } };
  const { cos, sin, cx, cy } = turn(angle, left, top, width, height);
  // Rotated box: bounds of the four rotated corners of the upright box.
  const corners = [[left, top], [right, top], [left, bottom], [right, bottom]].map(([x, y]) => [
    cx + (x - cx) * cos - (y - cy) * sin,
    cy + (x - cx) * sin + (y - cy) * cos,
  ]);
  const rLeft = Math.floor(Math.min(...corners.map((c) => c[0])));
  const rTop = Math.floor(Math.min(...corners.map((c) => c[1])));
  const rWidth = Math.ceil(Math.max(...corners.map((c) => c[0]))) - rLeft;
  const rHeight = Math.ceil(Math.max(...corners.map((c) => c[1]))) - rTop;
  return { layout, placed, left, top, right, bottom, angle, box: { left: rLeft, top: rTop, width: rWidth, height: rHeight } };
}

/** Rotation by `angle` degrees clockwise about the centre of the upright box. */
function turn(angle: number, left: number, top: number, width: number, height: number) {
  const rad = (angle * Math.PI) / 180;
  return { cos: Math.cos(rad), sin: Math.sin(rad), cx: left + width / 2, cy: top + height / 2 };
}

/**
 * The size of the mask `renderText` would draw, and its offset from the pen origin, without drawing
 * it (only the glyphs, which the bounded glyph cache holds): callers check it against their limits
 * or draw only the part they need.
 */
export function measureText(text: string, size: number, fonts: readonly LoadedFont[], rotate = 0): { width: number; height: number; left: number; top: number } {
  const { box } = lineBox(text, size, fonts, rotate);
  return { width: box.width, height: box.height, left: box.left, top: box.top };
}

/**
 * Render one line of text. The mask's box is the line box (advance × ascent+descent) grown to hold
 * any ink that pokes out of it, so placing the box places the text the way a layout engine would;
 * `left`/`top` give the box's offset from the pen origin on the baseline. With `rotate` (degrees,
 * clockwise) the box is the bounding box of the rotated line box, turned about its centre.
 *
 * With `window` (in the box's pixels, 0,0 its top-left corner) only that rectangle is drawn and
 * returned, `left`/`top` then placing the window: memory follows the window, not the text's size.
 */
export function renderText(text: string, size: number, fonts: readonly LoadedFont[], rotate = 0, window?: PixelWindow): TextMask {
  const line = lineBox(text, size, fonts, rotate);
  const { layout, placed, left, top, box } = line;
  const win = clipWindow(window, box.width, box.height);
  const whole = win.left === 0 && win.top === 0 && win.width === box.width && win.height === box.height;
  if (line.angle === 0) {
    const data = new Uint8Array(win.width * win.height);
    for (const { mask, x } of placed) {
      const ox = x + mask.left - left - win.left, oy = mask.top - top - win.top;
      const c0 = Math.max(0, -ox), c1 = Math.min(mask.width, win.width - ox);
      const r0 = Math.max(0, -oy), r1 = Math.min(mask.height, win.height - oy);
      for (let row = r0; row < r1; row++) {
        const src = row * mask.width, dst = (oy + row) * win.width + ox;
        for (let col = c0; col < c1; col++) {
          const v = mask.data[src + col];
          if (v !== 0) unite(data, dst + col, v);
        }
      }
    }
    return { width: win.width, height: win.height, left: left + win.left, top: top + win.top, data, layout };
  }
  // Rotate about the box centre: map each glyph's outline straight to the rotated pixel grid.
  const { cos, sin, cx, cy } = turn(line.angle, left, top, line.right - left, line.bottom - top);
  const parts: OutlinePart[] = layout.glyphs.map((g) => {
    const [a, , , d, e, f] = glyphTransform(g.font, size, g.x, 0);
    // rotation ∘ glyph transform, with the rotation taken about (cx, cy) and moved into the box.
    const tx = e - cx, ty = f - cy;
    const transform: Affine = [
      a * cos, a * sin,
      -d * sin, d * cos,
      cx + tx * cos - ty * sin - box.left, cy + tx * sin + ty * cos - box.top,
    ];
    return { commands: g.glyph.path.commands, transform };
  });
  if (!whole) {
    const ink = rasterize(parts, win);
    return { width: win.width, height: win.height, left: box.left + win.left, top: box.top + win.top, data: ink.data, layout };
  }
  const ink = rasterize(parts);
  const data = new Uint8Array(box.width * box.height);
  // The ink lies inside the rotated box by construction; clip anyway against rounding at the edges.
  for (let row = 0; row < ink.height; row++) {
    const y = ink.top + row;
    if (y < 0 || y >= box.height) continue;
    for (let col = 0; col < ink.width; col++) {
      const x = ink.left + col;
      if (x < 0 || x >= box.width) continue;
      data[y * box.width + x] = ink.data[row * ink.width + col];
    }
  }
  return { width: box.width, height: box.height, left: box.left, top: box.top, data, layout };
}

/** `window` cut to the box (the whole box when absent). */
function clipWindow(window: PixelWindow | undefined, width: number, height: number): PixelWindow {
  if (!window) return { left: 0, top: 0, width, height };
  const l = Math.max(0, window.left), t = Math.max(0, window.top);
  const r = Math.min(width, window.left + window.width), b = Math.min(height, window.top + window.height);
  return { left: l, top: t, width: Math.max(0, r - l), height: Math.max(0, b - t) };
}
